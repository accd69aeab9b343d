package dynamodb_test

import (
	"errors"
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func sv(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }
func nv(n int) types.AttributeValue    { return &types.AttributeValueMemberN{Value: strconv.Itoa(n)} }

func TestPartiQL(t *testing.T) {
	c, _ := newClient(t)
	createTable(t, c, "pqt", types.ScalarAttributeTypeN, func(in *dynamodb.CreateTableInput) {
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{AttributeName: aws.String("g"), AttributeType: types.ScalarAttributeTypeS})
		in.GlobalSecondaryIndexes = []types.GlobalSecondaryIndex{{
			IndexName:  aws.String("byG"),
			KeySchema:  []types.KeySchemaElement{{AttributeName: aws.String("g"), KeyType: types.KeyTypeHash}},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		}}
	})
	exec := func(stmt string, params ...types.AttributeValue) (*dynamodb.ExecuteStatementOutput, error) {
		return c.ExecuteStatement(ctx, &dynamodb.ExecuteStatementInput{Statement: aws.String(stmt), Parameters: params})
	}
	must := func(stmt string, params ...types.AttributeValue) []map[string]types.AttributeValue {
		t.Helper()
		out, err := exec(stmt, params...)
		if err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
		return out.Items
	}

	// INSERT with literals, nested documents, sets and parameters.
	for i := 1; i <= 6; i++ {
		must(`INSERT INTO "pqt" VALUE {'pk': 'a', 'sk': ?, 'g': ?, 'n': ?, 'doc': {'tags': <<'x', 'y'>>, 'list': [1, 'two', TRUE, NULL]}}`,
			nv(i), sv("g"+strconv.Itoa(i%2)), nv(i*10))
	}
	must(`INSERT INTO pqt VALUE {'pk': 'b', 'sk': 1, 'n': -2.5e1}`)
	_, err := exec(`INSERT INTO "pqt" VALUE {'pk': 'a', 'sk': 1}`)
	apiErr(t, err, "DuplicateItemException", "Duplicate primary key exists in table")
	var dup *types.DuplicateItemException
	if !errors.As(err, &dup) {
		t.Fatalf("want a typed DuplicateItemException, got %T", err)
	}

	// SELECT by key, with a non-key filter, projections and nested paths.
	items := must(`SELECT * FROM "pqt" WHERE pk = 'a' AND sk = 3`)
	var got struct {
		PK  string `dynamodbav:"pk"`
		SK  int    `dynamodbav:"sk"`
		N   int    `dynamodbav:"n"`
		Doc struct {
			Tags []string `dynamodbav:"tags,stringset"`
			List []any    `dynamodbav:"list"`
		} `dynamodbav:"doc"`
	}
	if len(items) != 1 {
		t.Fatalf("select by key: %v", items)
	}
	if err := attributevalue.UnmarshalMap(items[0], &got); err != nil || got.N != 30 || len(got.Doc.Tags) != 2 || len(got.Doc.List) != 4 {
		t.Fatalf("item: %+v %v", got, err)
	}
	items = must(`SELECT sk, doc.list[1], "n" FROM pqt WHERE pk = ? AND n >= 40 AND begins_with(g, 'g')`, sv("a"))
	if len(items) != 3 || items[0]["sk"].(*types.AttributeValueMemberN).Value != "4" {
		t.Fatalf("filtered select: %v", items)
	}
	if l, ok := items[0]["list"].(*types.AttributeValueMemberL); !ok || len(l.Value) != 1 || l.Value[0].(*types.AttributeValueMemberS).Value != "two" {
		t.Fatalf("nested projection: %#v", items[0])
	}
	if _, ok := items[0]["doc"]; ok {
		t.Fatalf("nested projection answered under its first component: %v", items[0])
	}
	items = must(`SELECT pk FROM pqt WHERE n < 0 OR sk IN [5, 6]`) // a scan
	if len(items) != 3 {
		t.Fatalf("scan: %v", items)
	}
	items = must(`SELECT sk FROM pqt WHERE pk = 'a' AND sk BETWEEN 2 AND 4 ORDER BY sk DESC`)
	if len(items) != 3 || items[0]["sk"].(*types.AttributeValueMemberN).Value != "4" {
		t.Fatalf("order by desc: %v", items)
	}
	items = must(`SELECT sk FROM "pqt"."byG" WHERE g = 'g1'`)
	if len(items) != 3 {
		t.Fatalf("index select: %v", items)
	}
	items = must(`SELECT * FROM pqt WHERE pk = 'a' AND nope IS MISSING AND doc.tags IS NOT MISSING -- a comment`)
	if len(items) != 6 {
		t.Fatalf("IS MISSING: %d items", len(items))
	}
	_, err = c.ExecuteStatement(ctx, &dynamodb.ExecuteStatementInput{Statement: aws.String(`SELECT * FROM "pqt"."byG" WHERE g = 'g1'`), ConsistentRead: aws.Bool(true)})
	apiErr(t, err, "ValidationException", "Consistent reads are not supported on global secondary indexes")

	// Limit and NextToken page through the partition.
	var pages, total int
	var next *string
	for {
		out, err := c.ExecuteStatement(ctx, &dynamodb.ExecuteStatementInput{Statement: aws.String(`SELECT sk FROM pqt WHERE pk = 'a'`), Limit: aws.Int32(4), NextToken: next, ConsistentRead: aws.Bool(true)})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		total += len(out.Items)
		if out.NextToken == nil {
			break
		}
		if out.LastEvaluatedKey == nil {
			t.Fatal("NextToken without LastEvaluatedKey")
		}
		next = out.NextToken
	}
	if pages != 2 || total != 6 {
		t.Fatalf("pagination: %d pages, %d items", pages, total)
	}

	// UPDATE: SET with arithmetic and set_add, REMOVE, RETURNING; a failed
	// condition and a missing item are ConditionalCheckFailedException.
	items = must(`UPDATE pqt SET n = n + 5 SET doc.tags = set_add(doc.tags, <<'z'>>) REMOVE g WHERE pk = 'a' AND sk = 1 RETURNING ALL NEW *`)
	if len(items) != 1 || items[0]["n"].(*types.AttributeValueMemberN).Value != "15" || items[0]["g"] != nil {
		t.Fatalf("update returning: %v", items)
	}
	if tags := items[0]["doc"].(*types.AttributeValueMemberM).Value["tags"].(*types.AttributeValueMemberSS).Value; len(tags) != 3 {
		t.Fatalf("set_add: %v", tags)
	}
	_, err = exec(`UPDATE pqt SET n = 0 WHERE pk = 'a' AND sk = 1 AND n > 100`)
	apiErr(t, err, "ConditionalCheckFailedException", "The conditional request failed")
	_, err = exec(`UPDATE pqt SET n = 0 WHERE pk = 'zz' AND sk = 1`)
	apiErr(t, err, "ConditionalCheckFailedException", "The conditional request failed")
	_, err = exec(`UPDATE pqt SET n = 0 WHERE pk = 'a'`)
	apiErr(t, err, "ValidationException", "Where clause does not contain a mandatory equality on all key attributes")
	_, err = exec(`UPDATE pqt SET sk = 9 WHERE pk = 'a' AND sk = 1`)
	apiErr(t, err, "ValidationException", "One or more parameter values were invalid: Cannot update attribute sk. This attribute is part of the key")

	// DELETE: a missing item is a no-op; RETURNING ALL OLD.
	if items := must(`DELETE FROM pqt WHERE pk = 'nobody' AND sk = 1`); len(items) != 0 {
		t.Fatalf("delete of a missing item: %v", items)
	}
	_, err = exec(`DELETE FROM pqt WHERE pk = 'b' AND sk = 1 AND n > 0`)
	apiErr(t, err, "ConditionalCheckFailedException", "The conditional request failed")
	items = must(`DELETE FROM pqt WHERE pk = 'b' AND sk = 1 RETURNING ALL OLD *`)
	if len(items) != 1 || items[0]["n"].(*types.AttributeValueMemberN).Value != "-25" {
		t.Fatalf("delete returning: %v", items)
	}

	// Malformed statements and parameters change nothing.
	for stmt, msg := range map[string]string{
		`SELEC * FROM pq`:                                                  "Statement wasn't well formed, can't be processed: Expected data manipulation",
		`SELECT * FROM pqt WHERE pk = 'a' foo`:                             "Statement wasn't well formed, can't be processed: Unexpected token after expression",
		`INSERT INTO pqt VALUE {'pk': 'q', 'sk': 1} extra`:                 "Statement wasn't well formed, can't be processed: Unexpected token after expression",
		`SELECT * FROM pqt t WHERE pk = 'a'`:                               "Aliasing is not supported",
		`SELECT * FROM pqt WHERE pk = 'a`:                                  "Statement wasn't well formed, can't be processed: ",
		`INSERT INTO pqt VALUE {'pk': 'q', 'sk': 1e126}`:                   "Number overflow. Attempting to store a number with magnitude larger than supported range under root.sk",
		`UPDATE pqt SET t = set_add(s, <<'x'>>) WHERE pk = 'a' AND sk = 2`: "The first argument to SET_ADD must equal the assignment value at 1:20:7",
		`SELECT * FROM pqt WHERE pk = ?`:                                   "Number of parameters in request and statement don't match.",
		`INSERT INTO pqt VALUE {'pk': 'q'}`:                                "One or more parameter values were invalid: Missing the key sk in the item",
	} {
		_, err := exec(stmt)
		apiErr(t, err, "ValidationException", msg)
	}
	_, err = exec(`SELECT * FROM pqt WHERE pk = 'a' AND n = ?`, &types.AttributeValueMemberN{Value: "abc"})
	apiErr(t, err, "ValidationException", "The parameter cannot be converted to a numeric value: abc")
	_, err = exec(`SELECT * FROM nosuch WHERE pk = 'a'`)
	apiErr(t, err, "ResourceNotFoundException", "")

	// BatchExecuteStatement: per-statement results and errors.
	b, err := c.BatchExecuteStatement(ctx, &dynamodb.BatchExecuteStatementInput{Statements: []types.BatchStatementRequest{
		{Statement: aws.String(`INSERT INTO pqt VALUE {'pk': 'c', 'sk': 1}`)},
		{Statement: aws.String(`INSERT INTO pqt VALUE {'pk': 'a', 'sk': 2}`)},
		{Statement: aws.String(`UPDATE pqt SET n = 1 WHERE pk = 'a' AND sk = 2 AND n = 999`), ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld},
		{Statement: aws.String(`DELETE FROM pqt WHERE pk = 'a' AND sk = 6`)},
		{Statement: aws.String(`SELEC`)},
	}})
	if err != nil {
		t.Fatal(err)
	}
	codes := []types.BatchStatementErrorCodeEnum{"", types.BatchStatementErrorCodeEnumDuplicateItem, types.BatchStatementErrorCodeEnumConditionalCheckFailed, "", types.BatchStatementErrorCodeEnumValidationError}
	for i, r := range b.Responses {
		var code types.BatchStatementErrorCodeEnum
		if r.Error != nil {
			code = r.Error.Code
		}
		if code != codes[i] {
			t.Fatalf("batch response %d: %+v", i, r.Error)
		}
	}
	if b.Responses[2].Error.Item["n"] == nil || *b.Responses[0].TableName != "pqt" {
		t.Fatalf("batch details: %+v", b.Responses)
	}
	b, err = c.BatchExecuteStatement(ctx, &dynamodb.BatchExecuteStatementInput{Statements: []types.BatchStatementRequest{
		{Statement: aws.String(`SELECT * FROM pqt WHERE pk = 'c' AND sk = 1`)},
		{Statement: aws.String(`SELECT * FROM pqt WHERE pk = 'c' AND sk = 2`)},
		{Statement: aws.String(`SELECT * FROM pqt WHERE pk = 'c'`)},
	}})
	if err != nil || b.Responses[0].Item == nil || b.Responses[1].Item != nil || b.Responses[2].Error == nil ||
		*b.Responses[2].Error.Message != "Select statements within BatchExecuteStatement must specify the primary key in the where clause." {
		t.Fatalf("batch reads: %+v %v", b, err)
	}

	// ExecuteTransaction: all or nothing.
	tx := func(stmts ...string) error {
		var ps []types.ParameterizedStatement
		for _, s := range stmts {
			ps = append(ps, types.ParameterizedStatement{Statement: aws.String(s)})
		}
		_, err := c.ExecuteTransaction(ctx, &dynamodb.ExecuteTransactionInput{TransactStatements: ps})
		return err
	}
	err = tx(`UPDATE pqt SET n = 100 WHERE pk = 'a' AND sk = 2`, `INSERT INTO pqt VALUE {'pk': 'a', 'sk': 3}`, `DELETE FROM pqt WHERE pk = 'c' AND sk = 1`)
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) || len(tce.CancellationReasons) != 3 || *tce.CancellationReasons[1].Code != "DuplicateItem" || *tce.CancellationReasons[0].Code != "None" {
		t.Fatalf("cancelled transaction: %v", err)
	}
	if items := must(`SELECT n FROM pqt WHERE pk = 'a' AND sk = 2`); items[0]["n"].(*types.AttributeValueMemberN).Value != "20" {
		t.Fatalf("cancelled transaction wrote: %v", items)
	}
	if err := tx(`UPDATE pqt SET n = 100 WHERE pk = 'a' AND sk = 2`, `INSERT INTO pqt VALUE {'pk': 'd', 'sk': 1}`, `DELETE FROM pqt WHERE pk = 'c' AND sk = 1`); err != nil {
		t.Fatal(err)
	}
	out, err := c.ExecuteTransaction(ctx, &dynamodb.ExecuteTransactionInput{TransactStatements: []types.ParameterizedStatement{
		{Statement: aws.String(`SELECT n FROM pqt WHERE pk = 'a' AND sk = 2`)},
		{Statement: aws.String(`SELECT * FROM pqt WHERE pk = 'c' AND sk = 1`)},
	}})
	if err != nil || len(out.Responses) != 2 || out.Responses[0].Item["n"].(*types.AttributeValueMemberN).Value != "100" || out.Responses[1].Item != nil {
		t.Fatalf("read transaction: %+v %v", out, err)
	}
	err = tx(`SELECT * FROM pqt WHERE pk = 'a'`)
	apiErr(t, err, "ValidationException", "Validation failed in TransactStatements[0]: Select statements within ExecuteTransaction must specify the primary key in the where clause.")
}
