package sqs

// QueuePolicy returns the Policy attribute of the queue queueARN names, for
// IAM enforcement; found is false when there is no such queue.
func (s *Service) QueuePolicy(queueARN string) (policy string, found bool) {
	q := s.queueByARN(queueARN)
	if q == nil {
		return "", false
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.deleted {
		return "", false
	}
	return q.rec.Attrs[attrPolicy], true
}
