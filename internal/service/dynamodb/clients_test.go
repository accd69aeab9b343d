package dynamodb_test

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"github.com/overcast-dev/overcast/internal/awstest"
)

// boto3Script drives the resource API with Key/Attr conditions, batch
// writer, transactions and error codes, and prints a JSON summary.
const boto3Script = `
import sys, json, decimal
import boto3
from boto3.dynamodb.conditions import Key, Attr
from botocore.exceptions import ClientError
url = sys.argv[1]
ddb = boto3.resource("dynamodb", endpoint_url=url, region_name="us-east-1")
client = ddb.meta.client
t = ddb.create_table(TableName="music",
    KeySchema=[{"AttributeName": "artist", "KeyType": "HASH"}, {"AttributeName": "song", "KeyType": "RANGE"}],
    AttributeDefinitions=[{"AttributeName": "artist", "AttributeType": "S"}, {"AttributeName": "song", "AttributeType": "S"},
                          {"AttributeName": "year", "AttributeType": "N"}],
    LocalSecondaryIndexes=[{"IndexName": "byYear", "KeySchema": [{"AttributeName": "artist", "KeyType": "HASH"},
        {"AttributeName": "year", "KeyType": "RANGE"}], "Projection": {"ProjectionType": "KEYS_ONLY"}}],
    BillingMode="PAY_PER_REQUEST")
t.wait_until_exists()
with t.batch_writer() as bw:
    for i in range(40):
        bw.put_item(Item={"artist": "a%d" % (i % 2), "song": "s%02d" % i, "year": 1990 + i, "plays": decimal.Decimal("1.5") * i,
                          "tags": {"rock", "x%d" % i}})
out = {}
r = t.query(KeyConditionExpression=Key("artist").eq("a0") & Key("song").begins_with("s1"),
            FilterExpression=Attr("plays").gt(12) & Attr("tags").contains("rock"))
out["query"] = [it["song"] for it in r["Items"]]
r = t.query(IndexName="byYear", KeyConditionExpression=Key("artist").eq("a1") & Key("year").between(1995, 2000), ScanIndexForward=False)
out["lsi"] = [int(it["year"]) for it in r["Items"]]
r = t.scan(FilterExpression=Attr("year").is_in([1990, 1991, 2029]) | Attr("song").eq("s05"))
out["scan"] = sorted(it["song"] for it in r["Items"])
t.update_item(Key={"artist": "a0", "song": "s00"}, UpdateExpression="ADD plays :p SET #n = :n",
              ExpressionAttributeNames={"#n": "note"}, ExpressionAttributeValues={":p": decimal.Decimal("0.25"), ":n": "hi"})
it = t.get_item(Key={"artist": "a0", "song": "s00"}, ConsistentRead=True)["Item"]
out["plays"] = str(it["plays"])
try:
    t.put_item(Item={"artist": "a0", "song": "s00"}, ConditionExpression=Attr("artist").not_exists())
except ClientError as e:
    out["cond"] = e.response["Error"]["Code"]
try:
    client.transact_write_items(TransactItems=[
        {"ConditionCheck": {"TableName": "music", "Key": {"artist": "a0", "song": "s00"}, "ConditionExpression": "attribute_not_exists(artist)"}},
        {"Put": {"TableName": "music", "Item": {"artist": "zz", "song": "zz"}}}])
except ClientError as e:
    out["tx"] = [r["Code"] for r in e.response["CancellationReasons"]]
try:
    t.get_item(Key={"artist": "a0"})
except ClientError as e:
    out["badkey"] = e.response["Error"]["Message"]
out["count"] = t.item_count
# The resource's client (de)serializes attribute values as Python values.
r = client.execute_statement(Statement="SELECT song, plays FROM music WHERE artist = ? AND song IN ['s02', 's04']", Parameters=["a0"])
out["pq"] = sorted(it["song"] for it in r["Items"])
try:
    client.execute_statement(Statement="INSERT INTO music VALUE {'artist': 'a0', 'song': 's00'}")
except ClientError as e:
    out["pqdup"] = e.response["Error"]["Code"]
try:
    client.execute_transaction(TransactStatements=[
        {"Statement": "UPDATE music SET plays = 0 WHERE artist = 'a0' AND song = 's02'"},
        {"Statement": "UPDATE music SET plays = 0 WHERE artist = 'a0' AND song = 'nope'"}])
except ClientError as e:
    out["pqtx"] = [r["Code"] for r in e.response["CancellationReasons"]]
print(json.dumps(out))
`

func TestBoto3(t *testing.T) {
	t.Parallel() // slow clients run beside the rest of the package
	for _, py := range awstest.Pythons(t) {
		t.Run(py.Name, func(t *testing.T) {
			t.Parallel()
			srv := awstest.Start(t, awstest.WithServices("dynamodb"))
			cmd := exec.Command(py.Path, "-c", boto3Script, srv.URL())
			cmd.Env = awstest.ClientEnv(t, "test", "test")
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			var v struct {
				Query  []string
				LSI    []int
				Scan   []string
				Plays  string
				Cond   string
				Tx     []string
				BadKey string
				Count  int
				PQ     []string
				PQDup  string
				PQTx   []string
			}
			if err := json.Unmarshal(out, &v); err != nil {
				t.Fatalf("output %s: %v", out, err)
			}
			if strings.Join(v.Query, ",") != "s10,s12,s14,s16,s18" {
				t.Errorf("query: %v", v.Query)
			}
			if len(v.LSI) != 3 || v.LSI[0] != 1999 || v.LSI[2] != 1995 {
				t.Errorf("lsi: %v", v.LSI)
			}
			if strings.Join(v.Scan, ",") != "s00,s01,s05,s39" {
				t.Errorf("scan: %v", v.Scan)
			}
			if v.Plays != "0.25" || v.Cond != "ConditionalCheckFailedException" || strings.Join(v.Tx, ",") != "ConditionalCheckFailed,None" {
				t.Errorf("summary: %+v", v)
			}
			if v.BadKey != "The provided key element does not match the schema" || v.Count != 40 {
				t.Errorf("summary: %+v", v)
			}
			if strings.Join(v.PQ, ",") != "s02,s04" || v.PQDup != "DuplicateItemException" || strings.Join(v.PQTx, ",") != "None,ConditionalCheckFailed" {
				t.Errorf("partiql: %+v", v)
			}
		})
	}
}

func TestCLI(t *testing.T) {
	t.Parallel()
	for _, c := range awstest.CLIs(t) {
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			srv := awstest.Start(t, awstest.WithServices("dynamodb"))
			run := func(args ...string) (string, error) {
				cmd := exec.Command(c.Path, append([]string{"--endpoint-url", srv.URL(), "--output", "json", "dynamodb"}, args...)...)
				cmd.Env = awstest.ClientEnv(t, "test", "test")
				out, err := cmd.CombinedOutput()
				return string(out), err
			}
			must := func(args ...string) string {
				out, err := run(args...)
				if err != nil {
					t.Fatalf("%v: %v: %s", args, err, out)
				}
				return out
			}
			must("create-table", "--table-name", "cli-tab", "--attribute-definitions", "AttributeName=id,AttributeType=S",
				"--key-schema", "AttributeName=id,KeyType=HASH", "--billing-mode", "PAY_PER_REQUEST")
			out := must("update-item", "--table-name", "cli-tab", "--key", `{"id":{"S":"1"}}`, "--update-expression", "SET n = if_not_exists(n, :base) + :one",
				"--expression-attribute-values", `{":one":{"N":"1"},":base":{"N":"41"}}`, "--return-values", "ALL_NEW")
			var g struct{ Attributes map[string]map[string]string }
			if err := json.Unmarshal([]byte(out), &g); err != nil || g.Attributes["n"]["N"] != "42" {
				t.Fatalf("update-item: %s", out)
			}
			out, err := run("put-item", "--table-name", "cli-tab", "--item", `{"id":{"S":"1"}}`, "--condition-expression", "attribute_not_exists(id)")
			if err == nil || !strings.Contains(out, "ConditionalCheckFailedException") {
				t.Fatalf("conditional put: %s", out)
			}
		})
	}
}
