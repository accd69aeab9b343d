package s3_test

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

func staticCreds(key string) aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider(key, "test", "")
}
