package elb

import (
	"fmt"
	"net/http"

	"github.com/overcast-dev/overcast/internal/protocol/awserr"
)

// Error shape names of the elbv2 and elb models and their query codes.
var queryCodes = map[string]string{
	"LoadBalancerNotFoundException":               "LoadBalancerNotFound",
	"TargetGroupNotFoundException":                "TargetGroupNotFound",
	"ListenerNotFoundException":                   "ListenerNotFound",
	"RuleNotFoundException":                       "RuleNotFound",
	"DuplicateLoadBalancerNameException":          "DuplicateLoadBalancerName",
	"DuplicateTargetGroupNameException":           "DuplicateTargetGroupName",
	"DuplicateListenerException":                  "DuplicateListener",
	"DuplicateTagKeysException":                   "DuplicateTagKeys",
	"PriorityInUseException":                      "PriorityInUse",
	"ResourceInUseException":                      "ResourceInUse",
	"InvalidConfigurationRequestException":        "InvalidConfigurationRequest",
	"InvalidTargetException":                      "InvalidTarget",
	"InvalidLoadBalancerActionException":          "InvalidLoadBalancerAction",
	"UnsupportedProtocolException":                "UnsupportedProtocol",
	"IncompatibleProtocolsException":              "IncompatibleProtocols",
	"OperationNotPermittedException":              "OperationNotPermitted",
	"TooManyTagsException":                        "TooManyTags",
	"TooManyRulesException":                       "TooManyRules",
	"TooManyTargetsException":                     "TooManyTargets",
	"TooManyActionsException":                     "TooManyActions",
	"TargetGroupAssociationLimitException":        "TargetGroupAssociationLimit",
	"CertificateNotFoundException":                "CertificateNotFound",
	"SubnetNotFoundException":                     "SubnetNotFound",
	"InvalidSchemeException":                      "InvalidScheme",
	"AccessPointNotFoundException":                "LoadBalancerNotFound",
	"DuplicateAccessPointNameException":           "DuplicateLoadBalancerName",
	"InvalidEndPointException":                    "InvalidInstance",
	"LoadBalancerAttributeNotFoundException":      "LoadBalancerAttributeNotFound",
	"ClassicInvalidConfigurationRequestException": "InvalidConfigurationRequest",
}

// apiErr returns the error shape code with its query code and status 400.
func apiErr(code, format string, args ...any) *awserr.Error {
	msg := format
	if len(args) > 0 {
		msg = fmt.Sprintf(format, args...)
	}
	q := queryCodes[code]
	status := http.StatusBadRequest
	if code == "ClassicInvalidConfigurationRequestException" {
		code = "InvalidConfigurationRequestException"
		status = http.StatusConflict
	}
	return &awserr.Error{Code: code, Message: msg, Status: status, QueryCode: q}
}

func validation(format string, args ...any) *awserr.Error {
	return awserr.New(awserr.CodeValidation, format, args...)
}

func errLBNotFound() *awserr.Error {
	return apiErr("LoadBalancerNotFoundException", "One or more load balancers not found")
}

func errTGNotFound() *awserr.Error {
	return apiErr("TargetGroupNotFoundException", "One or more target groups not found")
}

func errListenerNotFound() *awserr.Error {
	return apiErr("ListenerNotFoundException", "One or more listeners not found")
}

func errRuleNotFound() *awserr.Error {
	return apiErr("RuleNotFoundException", "One or more rules not found")
}

func errInvalidConfig(format string, args ...any) *awserr.Error {
	return apiErr("InvalidConfigurationRequestException", format, args...)
}
