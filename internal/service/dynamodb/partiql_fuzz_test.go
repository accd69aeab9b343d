package dynamodb

import (
	"strings"
	"testing"
)

// FuzzPartiQL feeds arbitrary statements to the parser and evaluates what it
// accepts: nothing may panic, and every refusal is a message.
func FuzzPartiQL(f *testing.F) {
	for _, s := range []string{
		`SELECT * FROM "t" WHERE pk = 'a' AND sk BETWEEN 1 AND 5 ORDER BY sk DESC`,
		`SELECT a.b[0], "c" FROM t."ix" WHERE NOT (x IN [1, 2, ?] OR y IS NOT MISSING) AND size(z) > 2`,
		`INSERT INTO t VALUE {'pk': 'a', 'm': {'l': [1, -2.5e3, .5, TRUE, NULL, <<'x','y'>>, <<1>>]}}`,
		`UPDATE t SET a = a + 1, b = list_append(b, [1]) SET s = set_add(s, <<'q'>>) REMOVE c[2] WHERE pk = 'a' RETURNING MODIFIED NEW *`,
		`DELETE FROM t WHERE pk = ? AND attribute_type(x, 'S') RETURNING ALL OLD * -- c`,
		`/* c */ SELECT * FROM t WHERE contains(a, 'x') AND begins_with(b, 'y') AND c <> d`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		params := make([]av, strings.Count(src, "?"))
		for i := range params {
			params[i] = av{t: tN, s: "1"}
		}
		st, err := parsePartiQL(src, params)
		if err != nil {
			if err.msg == "" {
				t.Fatalf("empty message for %q", src)
			}
			return
		}
		it := item{"pk": {t: tS, s: "a"}, "a": {t: tN, s: "3"}, "s": {t: tSS, set: []string{"x"}},
			"b": {t: tL, l: []av{{t: tN, s: "1"}}}, "m": {t: tM, m: map[string]av{"k": {t: tS, s: "v"}}}}
		if st.where != nil {
			evalCond(st.where, it)
			evalCond(st.where, nil)
		}
		if st.acts != nil {
			applyUpdate(it.clone(), st.acts)
		}
		pqShape(st.proj)(it)
	})
}
