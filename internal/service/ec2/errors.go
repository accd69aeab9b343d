package ec2

import (
	"net/http"

	"github.com/overcast-dev/overcast/internal/protocol/awserr"
)

// EC2's wire error codes.
const (
	codeDryRun                   = "DryRunOperation"
	codeInvalidParameterValue    = "InvalidParameterValue"
	codeInvalidParameter         = "InvalidParameter"
	codeInvalidParameterCombo    = "InvalidParameterCombination"
	codeMissingParameter         = "MissingParameter"
	codeInstanceNotFound         = "InvalidInstanceID.NotFound"
	codeInstanceMalformed        = "InvalidInstanceID.Malformed"
	codeIncorrectInstanceState   = "IncorrectInstanceState"
	codeOperationNotPermitted    = "OperationNotPermitted"
	codeVpcNotFound              = "InvalidVpcID.NotFound"
	codeSubnetNotFound           = "InvalidSubnetID.NotFound"
	codeGroupNotFound            = "InvalidGroup.NotFound"
	codeGroupIDMalformed         = "InvalidGroupId.Malformed"
	codeGroupDuplicate           = "InvalidGroup.Duplicate"
	codeGroupReserved            = "InvalidGroup.Reserved"
	codeCannotDelete             = "CannotDelete"
	codeDependencyViolation      = "DependencyViolation"
	codePermissionDuplicate      = "InvalidPermission.Duplicate"
	codePermissionNotFound       = "InvalidPermission.NotFound"
	codeKeyPairNotFound          = "InvalidKeyPair.NotFound"
	codeKeyPairDuplicate         = "InvalidKeyPair.Duplicate"
	codeKeyFormat                = "InvalidKey.Format"
	codeAMINotFound              = "InvalidAMIID.NotFound"
	codeAMIMalformed             = "InvalidAMIID.Malformed"
	codeLTNotFound               = "InvalidLaunchTemplateId.NotFound"
	codeLTMalformed              = "InvalidLaunchTemplateId.Malformed"
	codeLTVersionNotFound        = "InvalidLaunchTemplateId.VersionNotFound"
	codeLTNameNotFound           = "InvalidLaunchTemplateName.NotFoundException"
	codeLTNameExists             = "InvalidLaunchTemplateName.AlreadyExistsException"
	codeLTNameMalformed          = "InvalidLaunchTemplateName.MalformedException"
	codeInvalidID                = "InvalidID"
	codeInvalidNextToken         = "InvalidNextToken"
	codeInvalidUserData          = "InvalidUserData.Malformed"
	codeInvalidInstanceAttribute = "InvalidInstanceAttributeValue"
	codeUnsupported              = "UnsupportedOperation"
)

func errf(code, format string, args ...any) error {
	return awserr.New(code, format, args...)
}

func invalidParam(format string, args ...any) error {
	return awserr.New(codeInvalidParameterValue, format, args...)
}

func missingParam(name string) error {
	return awserr.New(codeMissingParameter, "The request must contain the parameter %s", name)
}

func internal(err error) error {
	return &awserr.Error{Code: "InternalError", Message: "An internal error has occurred: " + err.Error(), Status: http.StatusInternalServerError, Receiver: true}
}
