package dynamodb_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	stypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
	"github.com/aws/smithy-go"

	"github.com/overcast-dev/overcast/internal/awstest"
)

var ctx = context.Background()

func newClient(t *testing.T) (*dynamodb.Client, *awstest.Server) {
	t.Helper()
	srv := awstest.Start(t, awstest.WithServices("dynamodb"))
	return dynamodb.NewFromConfig(srv.Config), srv
}

func apiErr(t *testing.T, err error, code, msg string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want %s error, got %v", code, err)
	}
	if ae.ErrorCode() != code || (msg != "" && ae.ErrorMessage() != msg) {
		t.Fatalf("got %s: %q\nwant %s: %q", ae.ErrorCode(), ae.ErrorMessage(), code, msg)
	}
}

func createTable(t *testing.T, c *dynamodb.Client, name string, rangeType types.ScalarAttributeType, mod func(*dynamodb.CreateTableInput)) {
	t.Helper()
	in := &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
	}
	if rangeType != "" {
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{AttributeName: aws.String("sk"), AttributeType: rangeType})
		in.KeySchema = append(in.KeySchema, types.KeySchemaElement{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange})
	}
	if mod != nil {
		mod(in)
	}
	if _, err := c.CreateTable(ctx, in); err != nil {
		t.Fatalf("create table: %v", err)
	}
}

func TestTables(t *testing.T) {
	c, _ := newClient(t)
	createTable(t, c, "tab1", types.ScalarAttributeTypeN, func(in *dynamodb.CreateTableInput) {
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{AttributeName: aws.String("g"), AttributeType: types.ScalarAttributeTypeS})
		in.GlobalSecondaryIndexes = []types.GlobalSecondaryIndex{{
			IndexName:  aws.String("byG"),
			KeySchema:  []types.KeySchemaElement{{AttributeName: aws.String("g"), KeyType: types.KeyTypeHash}},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeKeysOnly},
		}}
		in.StreamSpecification = &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewTypeNewAndOldImages}
		in.Tags = []types.Tag{{Key: aws.String("env"), Value: aws.String("test")}}
		in.DeletionProtectionEnabled = aws.Bool(true)
	})
	w := dynamodb.NewTableExistsWaiter(c)
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("tab1")}, time.Minute); err != nil {
		t.Fatal(err)
	}
	d, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("tab1")})
	if err != nil {
		t.Fatal(err)
	}
	tb := d.Table
	if tb.TableStatus != types.TableStatusActive || len(tb.GlobalSecondaryIndexes) != 1 || tb.LatestStreamArn == nil ||
		tb.BillingModeSummary.BillingMode != types.BillingModePayPerRequest || !*tb.DeletionProtectionEnabled {
		t.Fatalf("describe: %+v", tb)
	}
	_, err = c.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName: aws.String("tab1"), BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
	})
	apiErr(t, err, "ResourceInUseException", "Table already exists: tab1")
	_, err = c.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName: aws.String("bad"), BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("x"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
	})
	apiErr(t, err, "ValidationException", "One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [pk], AttributeDefinitions: [x]")
	_, err = c.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("bad"),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
	})
	apiErr(t, err, "ValidationException", "One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED")

	for i := 0; i < 5; i++ {
		createTable(t, c, fmt.Sprintf("page-%d", i), "", nil)
	}
	var names []string
	p := dynamodb.NewListTablesPaginator(c, &dynamodb.ListTablesInput{Limit: aws.Int32(2)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, out.TableNames...)
	}
	if len(names) != 6 || !sort.StringsAreSorted(names) {
		t.Fatalf("list tables: %v", names)
	}

	_, err = c.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String("tab1")})
	apiErr(t, err, "ValidationException", "")
	if _, err := c.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("tab1"), DeletionProtectionEnabled: aws.Bool(false)}); err != nil {
		t.Fatal(err)
	}
	tags, err := c.ListTagsOfResource(ctx, &dynamodb.ListTagsOfResourceInput{ResourceArn: tb.TableArn})
	if err != nil || len(tags.Tags) != 1 || *tags.Tags[0].Key != "env" {
		t.Fatalf("tags: %+v %v", tags, err)
	}
	if _, err := c.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: aws.String("tab1"),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String("exp"), Enabled: aws.Bool(true)}}); err != nil {
		t.Fatal(err)
	}
	ttl, err := c.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String("tab1")})
	if err != nil || ttl.TimeToLiveDescription.TimeToLiveStatus != types.TimeToLiveStatusEnabled {
		t.Fatalf("ttl: %+v %v", ttl, err)
	}
	if _, err := c.DescribeContinuousBackups(ctx, &dynamodb.DescribeContinuousBackupsInput{TableName: aws.String("tab1")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DescribeLimits(ctx, &dynamodb.DescribeLimitsInput{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String("tab1")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("tab1")})
	apiErr(t, err, "ResourceNotFoundException", "Requested resource not found: Table: tab1 not found")
	_, err = c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("tab1"), Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "a"}}})
	apiErr(t, err, "ResourceNotFoundException", "Requested resource not found")
}

type rec struct {
	PK    string            `dynamodbav:"pk"`
	SK    int               `dynamodbav:"sk"`
	Name  string            `dynamodbav:"name,omitempty"`
	Count int               `dynamodbav:"count"`
	Tags  []string          `dynamodbav:"tags,stringset,omitempty"`
	Meta  map[string]string `dynamodbav:"meta,omitempty"`
	List  []int             `dynamodbav:"list,omitempty"`
}

func TestItemsAndExpressions(t *testing.T) {
	c, _ := newClient(t)
	createTable(t, c, "items", types.ScalarAttributeTypeN, nil)
	put := func(r rec) {
		av, err := attributevalue.MarshalMap(r)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("items"), Item: av}); err != nil {
			t.Fatal(err)
		}
	}
	put(rec{PK: "a", SK: 1, Name: "first", Count: 1, Tags: []string{"x", "y"}, Meta: map[string]string{"k": "v"}, List: []int{1, 2, 3}})
	key := map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "a"}, "sk": &types.AttributeValueMemberN{Value: "1"}}

	// Update with the expression builder.
	upd := expression.Set(expression.Name("name"), expression.Value("second")).
		Add(expression.Name("count"), expression.Value(5)).
		Set(expression.Name("meta.k2"), expression.Value("v2")).
		Set(expression.Name("list"), expression.ListAppend(expression.Name("list"), expression.Value([]int{4}))).
		Delete(expression.Name("tags"), expression.Value(&types.AttributeValueMemberSS{Value: []string{"x"}}))
	cond := expression.AttributeExists(expression.Name("pk")).And(expression.Name("count").LessThan(expression.Value(10)))
	e, err := expression.NewBuilder().WithUpdate(upd).WithCondition(cond).Build()
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String("items"), Key: key, UpdateExpression: e.Update(), ConditionExpression: e.Condition(),
		ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values(), ReturnValues: types.ReturnValueAllNew,
	})
	if err != nil {
		t.Fatal(err)
	}
	var got rec
	if err := attributevalue.UnmarshalMap(out.Attributes, &got); err != nil {
		t.Fatal(err)
	}
	if got.Name != "second" || got.Count != 6 || got.Meta["k2"] != "v2" || len(got.List) != 4 || len(got.Tags) != 1 || got.Tags[0] != "y" {
		t.Fatalf("after update: %+v", got)
	}
	// UPDATED_OLD returns just the touched attributes, nested paths as paths.
	out, err = c.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String("items"), Key: key, UpdateExpression: aws.String("SET #c = #c + :one, meta.k = :v"),
		ExpressionAttributeNames:  map[string]string{"#c": "count"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":one": &types.AttributeValueMemberN{Value: "1"}, ":v": &types.AttributeValueMemberS{Value: "new"}},
		ReturnValues:              types.ReturnValueUpdatedOld,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Attributes) != 2 || out.Attributes["count"].(*types.AttributeValueMemberN).Value != "6" {
		t.Fatalf("updated old: %#v", out.Attributes)
	}
	if m := out.Attributes["meta"].(*types.AttributeValueMemberM).Value; len(m) != 1 || m["k"].(*types.AttributeValueMemberS).Value != "v" {
		t.Fatalf("updated old meta: %#v", m)
	}

	// Conditional failure returns the old item on request.
	_, err = c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("items"), Item: key,
		ConditionExpression:                 aws.String("attribute_not_exists(pk)"),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld})
	var ccf *types.ConditionalCheckFailedException
	if !errors.As(err, &ccf) || ccf.Item["name"].(*types.AttributeValueMemberS).Value != "second" {
		t.Fatalf("conditional failure: %v", err)
	}
	apiErr(t, err, "ConditionalCheckFailedException", "The conditional request failed")

	// Projection with nested paths and list indexes.
	g, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("items"), Key: key,
		ProjectionExpression: aws.String("#n, meta.k2, #l[1], #l[3]"), ExpressionAttributeNames: map[string]string{"#n": "name", "#l": "list"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Item) != 3 || len(g.Item["list"].(*types.AttributeValueMemberL).Value) != 2 {
		t.Fatalf("projection: %#v", g.Item)
	}

	// Validation errors with DynamoDB's messages.
	_, err = c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("items"), Key: key,
		UpdateExpression:          aws.String("SET a = :a"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":a": &types.AttributeValueMemberS{Value: "1"}, ":b": &types.AttributeValueMemberS{Value: "2"}}})
	apiErr(t, err, "ValidationException", "Value provided in ExpressionAttributeValues unused in expressions: keys: {:b}")
	_, err = c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("items"), Key: key,
		UpdateExpression: aws.String("SET a = :a")})
	apiErr(t, err, "ValidationException", "Invalid UpdateExpression: An expression attribute value used in expression is not defined; attribute value: :a")
	_, err = c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("items"), Key: key,
		UpdateExpression: aws.String("SET pk = :a"), ExpressionAttributeValues: map[string]types.AttributeValue{":a": &types.AttributeValueMemberS{Value: "1"}}})
	apiErr(t, err, "ValidationException", "One or more parameter values were invalid: Cannot update attribute pk. This attribute is part of the key")
	_, err = c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("items"), Key: key,
		UpdateExpression: aws.String("SET #n = #n + :a"), ExpressionAttributeNames: map[string]string{"#n": "name"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":a": &types.AttributeValueMemberN{Value: "1"}}})
	apiErr(t, err, "ValidationException", "An operand in the update expression has an incorrect data type")
	_, err = c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("items"), Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "a"}}})
	apiErr(t, err, "ValidationException", "The provided key element does not match the schema")
	_, err = c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("items"), Item: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "a"}, "sk": &types.AttributeValueMemberS{Value: "x"}}})
	apiErr(t, err, "ValidationException", "One or more parameter values were invalid: Type mismatch for key sk expected: N actual: S")
	_, err = c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("items"), Item: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "a"}, "sk": &types.AttributeValueMemberN{Value: "x1"}}})
	apiErr(t, err, "ValidationException", "A value provided cannot be converted into a number")
	_, err = c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("items"), Item: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "a"}, "sk": &types.AttributeValueMemberN{Value: "2"},
		"s": &types.AttributeValueMemberSS{Value: []string{"a", "a"}}}})
	apiErr(t, err, "ValidationException", "One or more parameter values were invalid: Input collection [a, a] contains duplicates.")

	// Delete with ALL_OLD.
	del, err := c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("items"), Key: key, ReturnValues: types.ReturnValueAllOld})
	if err != nil || del.Attributes["name"] == nil {
		t.Fatalf("delete: %v %v", del, err)
	}
	g, err = c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("items"), Key: key, ConsistentRead: aws.Bool(true)})
	if err != nil || g.Item != nil {
		t.Fatalf("get after delete: %v %v", g.Item, err)
	}
}

func TestQueryScanIndexes(t *testing.T) {
	c, _ := newClient(t)
	createTable(t, c, "qtab", types.ScalarAttributeTypeN, func(in *dynamodb.CreateTableInput) {
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{AttributeName: aws.String("g"), AttributeType: types.ScalarAttributeTypeS})
		in.GlobalSecondaryIndexes = []types.GlobalSecondaryIndex{{
			IndexName:  aws.String("byG"),
			KeySchema:  []types.KeySchemaElement{{AttributeName: aws.String("g"), KeyType: types.KeyTypeHash}, {AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange}},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		}}
	})
	nums := []string{"-10", "-2.5", "-1", "0", "0.001", "1", "1.5", "2", "10", "100", "1e20"}
	for i, n := range nums {
		item := map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "p"}, "sk": &types.AttributeValueMemberN{Value: n},
			"v": &types.AttributeValueMemberN{Value: strconv.Itoa(i)}}
		if i%2 == 0 {
			item["g"] = &types.AttributeValueMemberS{Value: "even"}
		}
		if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("qtab"), Item: item}); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 30; i++ {
		c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("qtab"), Item: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: "other" + strconv.Itoa(i)}, "sk": &types.AttributeValueMemberN{Value: "1"}}})
	}
	// Paginated ascending query: numeric order across pages.
	var seen []string
	p := dynamodb.NewQueryPaginator(c, &dynamodb.QueryInput{TableName: aws.String("qtab"), Limit: aws.Int32(3),
		KeyConditionExpression:    aws.String("pk = :p"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": &types.AttributeValueMemberS{Value: "p"}}})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range out.Items {
			seen = append(seen, it["sk"].(*types.AttributeValueMemberN).Value)
		}
	}
	want := []string{"-10", "-2.5", "-1", "0", "0.001", "1", "1.5", "2", "10", "100", "100000000000000000000"}
	if fmt.Sprint(seen) != fmt.Sprint(want) {
		t.Fatalf("query order: %v", seen)
	}
	// Range condition, reverse, filter.
	kc := expression.Key("pk").Equal(expression.Value("p")).And(expression.Key("sk").Between(expression.Value(-1), expression.Value(10)))
	e, _ := expression.NewBuilder().WithKeyCondition(kc).WithFilter(expression.Name("v").GreaterThan(expression.Value(3))).Build()
	out, err := c.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("qtab"), KeyConditionExpression: e.KeyCondition(), FilterExpression: e.Filter(),
		ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values(), ScanIndexForward: aws.Bool(false)})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, it := range out.Items {
		got = append(got, it["sk"].(*types.AttributeValueMemberN).Value)
	}
	if fmt.Sprint(got) != "[10 2 1.5 1 0.001]" || out.ScannedCount != 7 {
		t.Fatalf("reverse between filter: %v scanned %d", got, out.ScannedCount)
	}
	// GSI query.
	out, err = c.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("qtab"), IndexName: aws.String("byG"),
		KeyConditionExpression:    aws.String("g = :g AND sk > :z"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":g": &types.AttributeValueMemberS{Value: "even"}, ":z": &types.AttributeValueMemberN{Value: "0"}}})
	if err != nil || out.Count != 4 {
		t.Fatalf("gsi query: %v %v", out, err)
	}
	// Count.
	out, err = c.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("qtab"), Select: types.SelectCount,
		KeyConditionExpression:    aws.String("pk = :p AND begins_with(sk, :b)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": &types.AttributeValueMemberS{Value: "p"}, ":b": &types.AttributeValueMemberN{Value: "1"}}})
	apiErr(t, err, "ValidationException", "Invalid KeyConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: N")
	// Parallel scan covers every item exactly once.
	total := 0
	for seg := int32(0); seg < 4; seg++ {
		sp := dynamodb.NewScanPaginator(c, &dynamodb.ScanInput{TableName: aws.String("qtab"), Segment: aws.Int32(seg), TotalSegments: aws.Int32(4), Limit: aws.Int32(5)})
		for sp.HasMorePages() {
			o, err := sp.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			total += len(o.Items)
		}
	}
	if total != 41 {
		t.Fatalf("parallel scan saw %d items", total)
	}
	so, err := c.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("qtab"), Select: types.SelectCount})
	if err != nil || so.Count != 41 || so.Items != nil {
		t.Fatalf("scan count: %v %v", so, err)
	}
	d, _ := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("qtab")})
	if *d.Table.ItemCount != 41 || *d.Table.GlobalSecondaryIndexes[0].ItemCount != 6 {
		t.Fatalf("counts: %d %d", *d.Table.ItemCount, *d.Table.GlobalSecondaryIndexes[0].ItemCount)
	}
}

func TestBatchAndTransactions(t *testing.T) {
	c, _ := newClient(t)
	createTable(t, c, "acct", "", nil)
	var reqs []types.WriteRequest
	for i := 0; i < 25; i++ {
		reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: "k" + strconv.Itoa(i)}, "bal": &types.AttributeValueMemberN{Value: "100"}}}})
	}
	if _, err := c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{"acct": reqs}}); err != nil {
		t.Fatal(err)
	}
	_, err := c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{"acct": append(reqs, reqs[0])}})
	apiErr(t, err, "ValidationException", "")
	var keys []map[string]types.AttributeValue
	for i := 0; i < 30; i++ {
		keys = append(keys, map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "k" + strconv.Itoa(i)}})
	}
	bg, err := c.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{"acct": {Keys: keys}}})
	if err != nil || len(bg.Responses["acct"]) != 25 {
		t.Fatalf("batch get: %v", err)
	}
	k := func(i int) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "k" + strconv.Itoa(i)}}
	}
	transfer := func(from, to, amt int) error {
		v := map[string]types.AttributeValue{":a": &types.AttributeValueMemberN{Value: strconv.Itoa(amt)}}
		_, err := c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
			{Update: &types.Update{TableName: aws.String("acct"), Key: k(from), UpdateExpression: aws.String("SET bal = bal - :a"),
				ConditionExpression: aws.String("bal >= :a"), ExpressionAttributeValues: v}},
			{Update: &types.Update{TableName: aws.String("acct"), Key: k(to), UpdateExpression: aws.String("SET bal = bal + :a"),
				ExpressionAttributeValues: v}},
		}})
		return err
	}
	err = transfer(0, 1, 500)
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) || len(tce.CancellationReasons) != 2 || *tce.CancellationReasons[0].Code != "ConditionalCheckFailed" || *tce.CancellationReasons[1].Code != "None" {
		t.Fatalf("cancel reasons: %v", err)
	}
	apiErr(t, err, "TransactionCanceledException", "Transaction cancelled, please refer cancellation reasons for specific reasons [ConditionalCheckFailed, None]")

	// Concurrent transfers conserve the total; concurrent ADDs are never lost.
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 25; i++ {
				transfer((g+i)%5, (g+i+1)%5, 7)
				c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("acct"), Key: k(24), UpdateExpression: aws.String("ADD hits :one"),
					ExpressionAttributeValues: map[string]types.AttributeValue{":one": &types.AttributeValueMemberN{Value: "1"}}})
			}
		}(g)
	}
	wg.Wait()
	sum := 0
	for i := 0; i < 5; i++ {
		g, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("acct"), Key: k(i)})
		if err != nil {
			t.Fatal(err)
		}
		n, _ := strconv.Atoi(g.Item["bal"].(*types.AttributeValueMemberN).Value)
		if n < 0 {
			t.Fatalf("negative balance %d", n)
		}
		sum += n
	}
	if sum != 500 {
		t.Fatalf("total %d, want 500", sum)
	}
	g, _ := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("acct"), Key: k(24)})
	if v := g.Item["hits"].(*types.AttributeValueMemberN).Value; v != "200" {
		t.Fatalf("counter %s, want 200", v)
	}
	// Idempotency token.
	in := &dynamodb.TransactWriteItemsInput{ClientRequestToken: aws.String("tok-1"), TransactItems: []types.TransactWriteItem{
		{Update: &types.Update{TableName: aws.String("acct"), Key: k(10), UpdateExpression: aws.String("ADD n :one"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":one": &types.AttributeValueMemberN{Value: "1"}}}}}}
	for i := 0; i < 2; i++ {
		if _, err := c.TransactWriteItems(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	tg, err := c.TransactGetItems(ctx, &dynamodb.TransactGetItemsInput{TransactItems: []types.TransactGetItem{
		{Get: &types.Get{TableName: aws.String("acct"), Key: k(10)}}, {Get: &types.Get{TableName: aws.String("acct"), Key: k(99)}}}})
	if err != nil || tg.Responses[0].Item["n"].(*types.AttributeValueMemberN).Value != "1" || tg.Responses[1].Item != nil {
		t.Fatalf("transact get: %v", err)
	}
	in.TransactItems[0].Update.Key = k(11)
	_, err = c.TransactWriteItems(ctx, in)
	apiErr(t, err, "IdempotentParameterMismatchException", "")
}

func TestStreams(t *testing.T) {
	c, srv := newClient(t)
	sc := dynamodbstreams.NewFromConfig(srv.Config)
	createTable(t, c, "stab", "", func(in *dynamodb.CreateTableInput) {
		in.StreamSpecification = &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewTypeNewAndOldImages}
	})
	k := map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "a"}}
	c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("stab"), Item: map[string]types.AttributeValue{"pk": k["pk"], "v": &types.AttributeValueMemberN{Value: "1"}}})
	c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("stab"), Key: k, UpdateExpression: aws.String("SET v = :v"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":v": &types.AttributeValueMemberN{Value: "2"}}})
	c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("stab"), Key: k})

	ls, err := sc.ListStreams(ctx, &dynamodbstreams.ListStreamsInput{TableName: aws.String("stab")})
	if err != nil || len(ls.Streams) != 1 {
		t.Fatalf("list streams: %v %v", ls, err)
	}
	ds, err := sc.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: ls.Streams[0].StreamArn})
	if err != nil || len(ds.StreamDescription.Shards) != 1 {
		t.Fatalf("describe stream: %v", err)
	}
	it, err := sc.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: ls.Streams[0].StreamArn,
		ShardId: ds.StreamDescription.Shards[0].ShardId, ShardIteratorType: stypes.ShardIteratorTypeTrimHorizon})
	if err != nil {
		t.Fatal(err)
	}
	gr, err := sc.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: it.ShardIterator})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range gr.Records {
		names = append(names, string(r.EventName))
	}
	if fmt.Sprint(names) != "[INSERT MODIFY REMOVE]" {
		t.Fatalf("records: %v", names)
	}
	m := gr.Records[1].Dynamodb
	if m.OldImage["v"].(*stypes.AttributeValueMemberN).Value != "1" || m.NewImage["v"].(*stypes.AttributeValueMemberN).Value != "2" {
		t.Fatalf("modify images: %+v", m)
	}
	// The next iterator sees only new records.
	c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("stab"), Item: k})
	gr, err = sc.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: gr.NextShardIterator})
	if err != nil || len(gr.Records) != 1 || gr.Records[0].EventName != stypes.OperationTypeInsert {
		t.Fatalf("next records: %v %v", gr, err)
	}
}
