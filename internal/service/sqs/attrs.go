package sqs

import (
	"encoding/json"
	"strconv"
	"strings"
)

// Queue attribute names.
const (
	attrDelaySeconds        = "DelaySeconds"
	attrMaximumMessageSize  = "MaximumMessageSize"
	attrRetentionPeriod     = "MessageRetentionPeriod"
	attrPolicy              = "Policy"
	attrWaitTime            = "ReceiveMessageWaitTimeSeconds"
	attrVisibilityTimeout   = "VisibilityTimeout"
	attrRedrivePolicy       = "RedrivePolicy"
	attrRedriveAllowPolicy  = "RedriveAllowPolicy"
	attrKmsMasterKeyID      = "KmsMasterKeyId"
	attrKmsReusePeriod      = "KmsDataKeyReusePeriodSeconds"
	attrSqsManagedSse       = "SqsManagedSseEnabled"
	attrFifoQueue           = "FifoQueue"
	attrContentBasedDedup   = "ContentBasedDeduplication"
	attrDeduplicationScope  = "DeduplicationScope"
	attrFifoThroughputLimit = "FifoThroughputLimit"

	attrQueueArn          = "QueueArn"
	attrNumMessages       = "ApproximateNumberOfMessages"
	attrNumNotVisible     = "ApproximateNumberOfMessagesNotVisible"
	attrNumDelayed        = "ApproximateNumberOfMessagesDelayed"
	attrCreatedTimestamp  = "CreatedTimestamp"
	attrModifiedTimestamp = "LastModifiedTimestamp"
)

const (
	maxMessageSize   = 262144
	defaultRetention = 345600
)

// readOnlyAttrs are answered by GetQueueAttributes but cannot be set.
var readOnlyAttrs = []string{attrQueueArn, attrNumMessages, attrNumNotVisible, attrNumDelayed, attrCreatedTimestamp, attrModifiedTimestamp}

var fifoOnlyAttrs = map[string]bool{attrContentBasedDedup: true, attrDeduplicationScope: true, attrFifoThroughputLimit: true}

// defaultAttrs returns the settable attributes of a new queue.
func defaultAttrs(fifo bool) map[string]string {
	m := map[string]string{
		attrDelaySeconds:       "0",
		attrMaximumMessageSize: strconv.Itoa(maxMessageSize),
		attrRetentionPeriod:    strconv.Itoa(defaultRetention),
		attrWaitTime:           "0",
		attrVisibilityTimeout:  "30",
		attrSqsManagedSse:      "true",
	}
	if fifo {
		m[attrFifoQueue] = "true"
		m[attrContentBasedDedup] = "false"
		m[attrDeduplicationScope] = "queue"
		m[attrFifoThroughputLimit] = "perQueue"
	}
	return m
}

// redrivePolicy is a parsed RedrivePolicy.
type redrivePolicy struct {
	TargetArn       string
	MaxReceiveCount int
}

func parseRedrive(s string) (*redrivePolicy, bool) {
	var raw map[string]any
	if err := json.Unmarshal([]byte(s), &raw); err != nil {
		return nil, false
	}
	arn, _ := raw["deadLetterTargetArn"].(string)
	var n int
	switch v := raw["maxReceiveCount"].(type) {
	case float64:
		n = int(v)
		if float64(n) != v {
			return nil, false
		}
	case string:
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			return nil, false
		}
	default:
		return nil, false
	}
	if arn == "" || n < 1 || n > 1000 {
		return nil, false
	}
	return &redrivePolicy{TargetArn: arn, MaxReceiveCount: n}, true
}

// redriveAllow is a parsed RedriveAllowPolicy.
type redriveAllow struct {
	Permission string // allowAll, denyAll, byQueue
	Sources    []string
}

func parseRedriveAllow(s string) (*redriveAllow, bool) {
	var raw struct {
		RedrivePermission string   `json:"redrivePermission"`
		SourceQueueArns   []string `json:"sourceQueueArns"`
	}
	if err := json.Unmarshal([]byte(s), &raw); err != nil {
		return nil, false
	}
	switch raw.RedrivePermission {
	case "allowAll", "denyAll":
		if len(raw.SourceQueueArns) > 0 {
			return nil, false
		}
	case "byQueue":
		if len(raw.SourceQueueArns) == 0 || len(raw.SourceQueueArns) > 10 {
			return nil, false
		}
	default:
		return nil, false
	}
	return &redriveAllow{Permission: raw.RedrivePermission, Sources: raw.SourceQueueArns}, true
}

func (p *redriveAllow) allows(source string) bool {
	if p == nil {
		return true
	}
	switch p.Permission {
	case "denyAll":
		return false
	case "byQueue":
		for _, s := range p.Sources {
			if s == source {
				return true
			}
		}
		return false
	}
	return true
}

func intIn(v string, lo, hi int) (string, bool) {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < lo || n > hi {
		return "", false
	}
	return strconv.Itoa(n), true
}

func boolAttr(v string) (string, bool) {
	switch strings.ToLower(v) {
	case "true":
		return "true", true
	case "false":
		return "false", true
	}
	return "", false
}

// validateAttrs checks attributes to set on a queue (fifo says which kind)
// and returns them normalised. create allows FifoQueue.
func validateAttrs(in map[string]string, fifo, create bool) (map[string]string, error) {
	out := make(map[string]string, len(in))
	for name, v := range in {
		if fifoOnlyAttrs[name] && !fifo {
			return nil, sqsErr(codeInvalidAttributeName, "Unknown Attribute %s.", name)
		}
		var ok bool
		var norm string
		switch name {
		case attrDelaySeconds:
			norm, ok = intIn(v, 0, 900)
		case attrMaximumMessageSize:
			norm, ok = intIn(v, 1024, maxMessageSize)
		case attrRetentionPeriod:
			norm, ok = intIn(v, 60, 1209600)
		case attrWaitTime:
			norm, ok = intIn(v, 0, 20)
		case attrVisibilityTimeout:
			norm, ok = intIn(v, 0, 43200)
		case attrKmsReusePeriod:
			norm, ok = intIn(v, 60, 86400)
		case attrSqsManagedSse, attrContentBasedDedup:
			norm, ok = boolAttr(v)
		case attrFifoQueue:
			if !create {
				return nil, sqsErr(codeInvalidAttributeName, "Unknown Attribute %s.", name)
			}
			norm, ok = boolAttr(v)
			if ok && (norm == "true") != fifo {
				return nil, sqsErr(codeInvalidParameterValue, "The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in length.")
			}
			if !fifo {
				continue // FifoQueue=false is accepted and not shown
			}
		case attrDeduplicationScope:
			norm, ok = v, v == "queue" || v == "messageGroup"
		case attrFifoThroughputLimit:
			norm, ok = v, v == "perQueue" || v == "perMessageGroupId"
		case attrKmsMasterKeyID:
			norm, ok = v, true
		case attrPolicy:
			norm, ok = v, v == "" || json.Valid([]byte(v))
			if !ok {
				return nil, sqsErr(codeInvalidAttributeValue, "Invalid value for the parameter Policy.")
			}
		case attrRedrivePolicy:
			if v == "" {
				norm, ok = "", true
				break
			}
			var p *redrivePolicy
			p, ok = parseRedrive(v)
			if !ok {
				return nil, sqsErr(codeInvalidParameterValue, "Value %s for parameter RedrivePolicy is invalid. Reason: Redrive policy is not a valid JSON map or is missing deadLetterTargetArn or maxReceiveCount (1 to 1000).", v)
			}
			b, _ := json.Marshal(map[string]any{"deadLetterTargetArn": p.TargetArn, "maxReceiveCount": p.MaxReceiveCount})
			norm = string(b)
		case attrRedriveAllowPolicy:
			if v == "" {
				norm, ok = "", true
				break
			}
			if _, ok = parseRedriveAllow(v); !ok {
				return nil, sqsErr(codeInvalidParameterValue, "Value %s for parameter RedriveAllowPolicy is invalid. Reason: Invalid value for redrivePermission or sourceQueueArns.", v)
			}
			norm = v
		default:
			return nil, sqsErr(codeInvalidAttributeName, "Unknown Attribute %s.", name)
		}
		if !ok {
			return nil, errAttrValue(name)
		}
		out[name] = norm
	}
	if out[attrSqsManagedSse] == "true" && out[attrKmsMasterKeyID] != "" {
		return nil, sqsErr(codeInvalidAttributeName, "You can use one type of server-side encryption (SSE) at one time. You can either enable KMS SSE or SQS SSE.")
	}
	return out, nil
}
