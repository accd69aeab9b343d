package dynamodb_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/overcast-dev/overcast/internal/awstest"
	"github.com/overcast-dev/overcast/internal/clock"
	"github.com/overcast-dev/overcast/internal/server"
)

const throttleMsg = "The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API."

func TestProvisionedThroughput(t *testing.T) {
	fc := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	srv := awstest.Start(t, awstest.WithServices("dynamodb"), awstest.WithClock(fc),
		func(c *server.Config) { c.DynamoDBThrottle = true })
	// A client that retries once, quickly: the throttle must reach its retryer.
	c := dynamodb.NewFromConfig(srv.Config, func(o *dynamodb.Options) {
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
			so.MaxAttempts = 2
			so.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return time.Millisecond, nil })
		})
	})
	one := &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(1), WriteCapacityUnits: aws.Int64(1)}
	createTable(t, c, "thr", "", func(in *dynamodb.CreateTableInput) {
		in.BillingMode = types.BillingModeProvisioned
		in.ProvisionedThroughput = one
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{AttributeName: aws.String("g"), AttributeType: types.ScalarAttributeTypeS})
		in.GlobalSecondaryIndexes = []types.GlobalSecondaryIndex{{
			IndexName: aws.String("byG"), ProvisionedThroughput: one,
			KeySchema:  []types.KeySchemaElement{{AttributeName: aws.String("g"), KeyType: types.KeyTypeHash}},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		}}
	})
	createTable(t, c, "free", "", nil)

	// 1 WCU banks 300 units of burst; a ~100 KB item costs 100 units in the
	// table and 100 in the index.
	big := func(k string) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{"pk": sv(k), "g": sv("x"), "blob": sv(strings.Repeat("b", 100*1024-20))}
	}
	put := func(k string) (*dynamodb.PutItemOutput, error) {
		return c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("thr"), Item: big(k), ReturnConsumedCapacity: types.ReturnConsumedCapacityIndexes})
	}
	out, err := put("a")
	if err != nil {
		t.Fatal(err)
	}
	cc := out.ConsumedCapacity
	if *cc.CapacityUnits != 200 || *cc.Table.CapacityUnits != 100 || *cc.GlobalSecondaryIndexes["byG"].WriteCapacityUnits != 100 {
		t.Fatalf("consumed: total %v table %v index %+v", *cc.CapacityUnits, *cc.Table.CapacityUnits, cc.GlobalSecondaryIndexes)
	}
	for _, k := range []string{"b", "c"} {
		if _, err := put(k); err != nil {
			t.Fatal(err)
		}
	}
	_, err = put("d")
	apiErr(t, err, "ProvisionedThroughputExceededException", throttleMsg)
	var maxAttempts *retry.MaxAttemptsError
	if !errors.As(err, &maxAttempts) || maxAttempts.Attempt != 2 {
		t.Fatalf("the retryer did not retry the throttle: %v", err)
	}

	// A throttled table's share of a batch comes back unprocessed.
	small := func(k string) types.WriteRequest {
		return types.WriteRequest{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{"pk": sv(k)}}}
	}
	bw, err := c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{
		"thr": {small("s1"), small("s2")}, "free": {small("f1")}}})
	if err != nil || len(bw.UnprocessedItems["thr"]) != 2 || len(bw.UnprocessedItems["free"]) != 0 {
		t.Fatalf("batch write: %+v %v", bw, err)
	}
	_, err = c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{"thr": {small("s1")}}})
	apiErr(t, err, "ProvisionedThroughputExceededException", "")

	// Capacity comes back with time.
	fc.Advance(150 * time.Second)
	if _, err := put("d"); err != nil {
		t.Fatalf("after refill: %v", err)
	}

	// Reads: 1 RCU banks 300 units; a strongly consistent read of ~100 KB is
	// 25, whatever the projection returns.
	get := func() (*dynamodb.GetItemOutput, error) {
		return c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("thr"), Key: map[string]types.AttributeValue{"pk": sv("a")},
			ProjectionExpression: aws.String("pk"), ConsistentRead: aws.Bool(true), ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal})
	}
	for i := 0; i < 12; i++ {
		g, err := get()
		if err != nil {
			t.Fatalf("read %d: %v", i, err)
		}
		if *g.ConsumedCapacity.ReadCapacityUnits != 25 {
			t.Fatalf("read units %v", *g.ConsumedCapacity.ReadCapacityUnits)
		}
	}
	_, err = get()
	apiErr(t, err, "ProvisionedThroughputExceededException", throttleMsg)
	bg, err := c.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
		"thr":  {Keys: []map[string]types.AttributeValue{{"pk": sv("a")}}, ProjectionExpression: aws.String("pk")},
		"free": {Keys: []map[string]types.AttributeValue{{"pk": sv("f1")}}}}})
	if err != nil || len(bg.UnprocessedKeys["thr"].Keys) != 1 || *bg.UnprocessedKeys["thr"].ProjectionExpression != "pk" || len(bg.Responses["free"]) != 1 {
		t.Fatalf("batch get: %+v %v", bg, err)
	}
	// The index has its own read capacity.
	q, err := c.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("thr"), IndexName: aws.String("byG"),
		KeyConditionExpression: aws.String("g = :g"), ExpressionAttributeValues: map[string]types.AttributeValue{":g": sv("x")},
		Select: types.SelectCount, ReturnConsumedCapacity: types.ReturnConsumedCapacityIndexes})
	if err != nil || q.Count != 4 || *q.ConsumedCapacity.GlobalSecondaryIndexes["byG"].ReadCapacityUnits != 50 {
		t.Fatalf("index query: %+v %v", q, err)
	}

	// On-demand tables are never throttled.
	for i := 0; i < 5; i++ {
		if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("free"), Item: big("x")}); err != nil {
			t.Fatal(err)
		}
	}
}
