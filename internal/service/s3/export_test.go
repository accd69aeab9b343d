package s3

import "context"

// RunLifecycle applies lifecycle rules once (the controller's pass).
func (s *Service) RunLifecycle(ctx context.Context) error { return s.runLifecycle(ctx) }

// FlushMetrics publishes the aggregated request metrics now.
func (s *Service) FlushMetrics(ctx context.Context) error { return s.flushMetrics(ctx) }
