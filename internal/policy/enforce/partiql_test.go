package enforce

import (
	"strings"
	"testing"

	"github.com/overcast-dev/overcast/internal/service"
)

func TestPartiQLTarget(t *testing.T) {
	for _, c := range []struct{ stmt, verb, table, index string }{
		{`SELECT * FROM "Music" WHERE Artist='Acme'`, "SELECT", "Music", ""},
		{`select a, b from Music.ByYear where y = 1`, "SELECT", "Music", "ByYear"},
		{`SELECT * FROM "Music"."ByYear"`, "SELECT", "Music", "ByYear"},
		{`INSERT INTO "Music" value {'Artist':'from x'}`, "INSERT", "Music", ""},
		{`UPDATE "Music" SET AwardsWon=1 WHERE Artist='FROM Acme'`, "UPDATE", "Music", ""},
		{`DELETE FROM Music WHERE Artist='Acme'`, "DELETE", "Music", ""},
		{`EXISTS(SELECT * FROM "Music")`, "", "", ""},
		{`"SELECT" * FROM t`, "", "", ""},
		{``, "", "", ""},
		{`SELECT * FROM`, "SELECT", "", ""},
	} {
		v, tb, ix := PartiQLTarget(c.stmt)
		if v != c.verb || tb != c.table || ix != c.index {
			t.Errorf("%q: got %q %q %q, want %q %q %q", c.stmt, v, tb, ix, c.verb, c.table, c.index)
		}
	}
}

func TestDynamoDBChecks(t *testing.T) {
	req := &service.Request{Account: "000000000000", Region: "us-east-1", Operation: "TransactWriteItems", Input: map[string]any{
		"TransactItems": []any{
			map[string]any{"Put": map[string]any{"TableName": "a"}},
			map[string]any{"Delete": map[string]any{"TableName": "b"}},
			map[string]any{"Put": map[string]any{"TableName": "a"}},
		},
	}}
	got := Checks("dynamodb", req, nil)
	want := []Check{{"dynamodb:DeleteItem", "arn:aws:dynamodb:us-east-1:000000000000:table/b"}, {"dynamodb:PutItem", "arn:aws:dynamodb:us-east-1:000000000000:table/a"}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("transact checks %v", got)
	}
	req = &service.Request{Account: "000000000000", Region: "us-east-1", Operation: "ExecuteStatement", Input: map[string]any{"Statement": `UPDATE "t" SET x = 1`}}
	if got := Checks("dynamodb", req, nil); len(got) != 1 || got[0] != (Check{"dynamodb:PartiQLUpdate", "arn:aws:dynamodb:us-east-1:000000000000:table/t"}) {
		t.Errorf("statement checks %v", got)
	}
}

func FuzzPartiQLTarget(f *testing.F) {
	for _, s := range []string{`SELECT * FROM "Music"."ByYear"`, `INSERT INTO t value {'a':'"'}`, `UPDATE "x`, `DELETE FROM 'x' "`, "\"", "'"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		verb, table, index := PartiQLTarget(s)
		if verb == "" && (table != "" || index != "") {
			t.Fatalf("table without verb: %q", s)
		}
		if table != "" && !strings.Contains(s, table) {
			t.Fatalf("table %q not in %q", table, s)
		}
	})
}
