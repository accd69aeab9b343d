package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// ddbDefs are the DynamoDB workloads (issue 5). All four share one table
// per target, filled once with -ddb-items items in partitions of
// ddbPartition items.
func ddbDefs() []workloadDef {
	return []workloadDef{
		{name: "ddb-put", doc: "DynamoDB PutItem of a ~130-byte item over a random key of the pre-filled table (the table does not grow)",
			service: "dynamodb", concurrency: defaultS3DDBConc, duration: defaultDuration, heavySetup: true,
			new:   func() Workload { return &ddbWork{op: ddbPut} },
			goals: goals{cpuUs: targetSmallCallCPUUs, vsMotoRate: 50, vsMotoCPU: targetVsMotoFactor, aheadOfPeers: true}},
		{name: "ddb-get", doc: "DynamoDB GetItem (eventually consistent) of a random pre-filled item; the item's attributes are checked",
			service: "dynamodb", concurrency: defaultS3DDBConc, duration: defaultDuration, heavySetup: true,
			new:   func() Workload { return &ddbWork{op: ddbGet} },
			goals: goals{cpuUs: targetSmallCallCPUUs, vsMotoRate: 50, vsMotoCPU: targetVsMotoFactor, aheadOfPeers: true}},
		{name: "ddb-query", doc: "DynamoDB Query, one 100-item page (pk = :p AND sk >= :s, Limit 100) from a random point of a random 1,000-item partition; count and order checked",
			service: "dynamodb", concurrency: defaultS3DDBConc, duration: defaultDuration, heavySetup: true, latency: true,
			new:   func() Workload { return &ddbWork{op: ddbQuery} },
			goals: goals{vsMotoRate: 50, aheadOfPeers: true}},
		{name: "ddb-transact", doc: "DynamoDB TransactWriteItems of 2 Puts on random pre-filled keys (a TransactionCanceled conflict counts as an error)",
			service: "dynamodb", concurrency: defaultS3DDBConc, duration: defaultDuration, heavySetup: true,
			new:   func() Workload { return &ddbWork{op: ddbTransact} },
			goals: goals{vsMotoRate: 50, aheadOfPeers: true}},
	}
}

const (
	ddbTableName = "bench"
	ddbPartition = 1000 // items per partition key
	ddbPageSize  = 100  // items per Query page
)

// ddbData is every item's payload attribute.
var ddbData = strings.Repeat("d", 100)

type ddbOp int

const (
	ddbPut ddbOp = iota
	ddbGet
	ddbQuery
	ddbTransact
)

// ddbTable is the pre-filled table a target's DynamoDB workloads share.
type ddbTable struct {
	c     *dynamodb.Client
	items int
}

func ddbKey(i int) (pk, sk string) {
	return "p" + strconv.Itoa(i/ddbPartition), strconv.Itoa(i % ddbPartition)
}

func ddbItem(i int) map[string]ddbtypes.AttributeValue {
	pk, sk := ddbKey(i)
	return map[string]ddbtypes.AttributeValue{
		"pk":   &ddbtypes.AttributeValueMemberS{Value: pk},
		"sk":   &ddbtypes.AttributeValueMemberN{Value: sk},
		"data": &ddbtypes.AttributeValueMemberS{Value: ddbData},
	}
}

// setupDDBTable creates the table and fills it with BatchWriteItem (25
// items a call, 16 at once), once per target.
func setupDDBTable(ctx context.Context, env Env) (*ddbTable, error) {
	v, err := env.once("ddb-table", func() (any, error) {
		c := dynamodb.NewFromConfig(awsConfig(env))
		_, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{
			TableName: aws.String(ddbTableName),
			AttributeDefinitions: []ddbtypes.AttributeDefinition{
				{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS},
				{AttributeName: aws.String("sk"), AttributeType: ddbtypes.ScalarAttributeTypeN},
			},
			KeySchema: []ddbtypes.KeySchemaElement{
				{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash},
				{AttributeName: aws.String("sk"), KeyType: ddbtypes.KeyTypeRange},
			},
			BillingMode: ddbtypes.BillingModePayPerRequest,
		})
		if err != nil {
			return nil, classify("CreateTable", err)
		}
		for i := 0; ; i++ {
			d, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(ddbTableName)})
			if err != nil {
				return nil, classify("DescribeTable", err)
			}
			if d.Table != nil && d.Table.TableStatus == ddbtypes.TableStatusActive {
				break
			}
			if i == 200 {
				return nil, errors.New("table not ACTIVE after 200 DescribeTable calls")
			}
			select {
			case <-time.After(50 * time.Millisecond):
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		items := env.Opts.DynamoDBItems
		const batch = 25
		err = fillParallel(ctx, "items", int64((items+batch-1)/batch), batch, 16, func(ctx context.Context, b int64) error {
			var reqs []ddbtypes.WriteRequest
			for i := int(b) * batch; i < min(items, int(b+1)*batch); i++ {
				reqs = append(reqs, ddbtypes.WriteRequest{PutRequest: &ddbtypes.PutRequest{Item: ddbItem(i)}})
			}
			in := map[string][]ddbtypes.WriteRequest{ddbTableName: reqs}
			for try := 0; len(in) > 0; try++ {
				if try == 50 {
					return errors.New("BatchWriteItem: items still unprocessed after 50 calls")
				}
				out, err := c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: in})
				if err != nil {
					return err
				}
				in = out.UnprocessedItems
			}
			return nil
		})
		if err != nil {
			return nil, classify("fill table", err)
		}
		return &ddbTable{c: c, items: items}, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*ddbTable), nil
}

// ddbWork is one of the DynamoDB operations over the shared table.
type ddbWork struct {
	op ddbOp
	t  *ddbTable
}

func (w *ddbWork) Name() string {
	return [...]string{"ddb-put", "ddb-get", "ddb-query", "ddb-transact"}[w.op]
}

func (w *ddbWork) Setup(ctx context.Context, env Env) error {
	if env.Floor {
		return errors.ErrUnsupported
	}
	t, err := setupDDBTable(ctx, env)
	if err != nil {
		return err
	}
	w.t = t
	return classify("first "+w.Name(), w.Op(ctx))
}

func (w *ddbWork) Op(ctx context.Context) error {
	c, n := w.t.c, w.t.items
	switch w.op {
	case ddbPut:
		_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(ddbTableName), Item: ddbItem(rand.IntN(n))})
		return err
	case ddbGet:
		i := rand.IntN(n)
		pk, sk := ddbKey(i)
		out, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(ddbTableName),
			Key: map[string]ddbtypes.AttributeValue{
				"pk": &ddbtypes.AttributeValueMemberS{Value: pk},
				"sk": &ddbtypes.AttributeValueMemberN{Value: sk},
			}})
		if err != nil {
			return err
		}
		if len(out.Item) == 0 {
			return fmt.Errorf("GetItem %s/%s: no item", pk, sk)
		}
		if d, ok := out.Item["data"].(*ddbtypes.AttributeValueMemberS); !ok || d.Value != ddbData {
			return fmt.Errorf("GetItem %s/%s: wrong data attribute", pk, sk)
		}
		if p, ok := out.Item["pk"].(*ddbtypes.AttributeValueMemberS); !ok || p.Value != pk {
			return fmt.Errorf("GetItem %s/%s: wrong pk", pk, sk)
		}
		return nil
	case ddbQuery:
		part := rand.IntN(n / ddbPartition)
		start := rand.IntN(ddbPartition - ddbPageSize + 1)
		out, err := c.Query(ctx, &dynamodb.QueryInput{
			TableName:              aws.String(ddbTableName),
			KeyConditionExpression: aws.String("pk = :p AND sk >= :s"),
			ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{
				":p": &ddbtypes.AttributeValueMemberS{Value: "p" + strconv.Itoa(part)},
				":s": &ddbtypes.AttributeValueMemberN{Value: strconv.Itoa(start)},
			},
			Limit: aws.Int32(ddbPageSize),
		})
		if err != nil {
			return err
		}
		if out.Count != ddbPageSize || len(out.Items) != ddbPageSize {
			return fmt.Errorf("Query: %d items (Count %d), want %d", len(out.Items), out.Count, ddbPageSize)
		}
		first, _ := out.Items[0]["sk"].(*ddbtypes.AttributeValueMemberN)
		last, _ := out.Items[ddbPageSize-1]["sk"].(*ddbtypes.AttributeValueMemberN)
		if first == nil || last == nil || first.Value != strconv.Itoa(start) || last.Value != strconv.Itoa(start+ddbPageSize-1) {
			return errors.New("Query: page not in sort-key order from the start key")
		}
		return nil
	default:
		i := rand.IntN(n)
		j := rand.IntN(n - 1)
		if j >= i {
			j++
		}
		_, err := c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []ddbtypes.TransactWriteItem{
			{Put: &ddbtypes.Put{TableName: aws.String(ddbTableName), Item: ddbItem(i)}},
			{Put: &ddbtypes.Put{TableName: aws.String(ddbTableName), Item: ddbItem(j)}},
		}})
		return err
	}
}

var _ Workload = (*ddbWork)(nil)
