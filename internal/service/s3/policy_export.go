package s3

import (
	"github.com/overcast-dev/overcast/internal/storage"
)

// BucketPolicy returns the bucket policy of a bucket in an AWS partition
// ("aws") and the account that owns the bucket, for IAM enforcement.
// found is false when the bucket does not exist; policy is "" when it has
// none.
func (s *Service) BucketPolicy(partition, bucket string) (policy, owner string, found bool) {
	var b bucketRecord
	s.kv.View(func(tx storage.Tx) error {
		var err error
		found, err = s.getBucket(tx, partitionScope(partition).Key(tagBucket, bucket), &b)
		return err
	})
	if !found {
		return "", "", false
	}
	return b.Policy, b.Account, true
}
