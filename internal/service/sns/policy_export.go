package sns

// TopicPolicy returns the access policy of the topic topicARN names (the
// default policy when none was set) and the topic's account, for IAM
// enforcement; found is false when there is no such topic.
func (s *Service) TopicPolicy(topicARN string) (policy, owner string, found bool) {
	s.mu.RLock()
	t := s.topics[topicARN]
	s.mu.RUnlock()
	if t == nil {
		return "", "", false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if p := t.rec.Attrs["Policy"]; p != "" {
		return p, t.rec.Account, true
	}
	return defaultPolicy(t.rec.Arn, t.rec.Account), t.rec.Account, true
}
