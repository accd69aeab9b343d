package sqs

import (
	"context"
	"strings"

	"github.com/overcast-dev/overcast/internal/service"
)

// SendToQueue sends a message to the queue queueARN names, for other
// services (SNS subscriptions, S3 event notifications, EventBridge-style
// targets). groupID and dedupID are for FIFO queues; with a FIFO queue that
// has no content-based deduplication, an empty dedupID is replaced by one
// derived from the body. It returns an *awserr.Error (QueueDoesNotExist,
// InvalidParameterValue, ...) when SQS would refuse the message.
func (s *Service) SendToQueue(ctx context.Context, queueARN, body string, attrs map[string]service.MessageAttribute, groupID, dedupID string) error {
	_, err := s.SendToQueueID(ctx, queueARN, body, attrs, groupID, dedupID)
	return err
}

// SendToQueueID is SendToQueue that also returns the message id.
func (s *Service) SendToQueueID(ctx context.Context, queueARN, body string, attrs map[string]service.MessageAttribute, groupID, dedupID string) (string, error) {
	q := s.queueByARN(queueARN)
	if q == nil {
		return "", errNoQueue()
	}
	c := q.conf()
	e := sendEntry{body: body, hasBody: true, attrs: attrs, groupID: groupID, dedupID: dedupID}
	if !c.fifo {
		e.groupID, e.dedupID = "", ""
	} else if e.dedupID == "" && !c.contentDedup {
		e.dedupID = md5Hex(body)
	}
	sender := ""
	if p := strings.SplitN(queueARN, ":", 6); len(p) == 6 {
		sender = p[4]
	}
	m, err := prepare(c, e, sender)
	if err != nil {
		return "", err
	}
	res, err := s.commitSend(q, []*message{m})
	if err != nil {
		return "", err
	}
	return res[0].id, nil
}

// QueueExists reports whether queueARN names a queue.
func (s *Service) QueueExists(queueARN string) bool { return s.queueByARN(queueARN) != nil }
