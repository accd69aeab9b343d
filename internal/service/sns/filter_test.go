package sns

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/overcast-dev/overcast/internal/service"
)

func TestFilterPolicyMatching(t *testing.T) {
	attrs := map[string]service.MessageAttribute{
		"s":   {DataType: "String", StringValue: "Hello"},
		"n":   {DataType: "Number", StringValue: "12.5"},
		"ip":  {DataType: "String", StringValue: "10.0.3.4"},
		"arr": {DataType: "String.Array", StringValue: `["a", 7, true]`},
		"bin": {DataType: "Binary", BinaryValue: []byte("x")},
	}
	cases := []struct {
		policy string
		want   bool
	}{
		{`{"s":["Hello"]}`, true},
		{`{"s":["hello"]}`, false},
		{`{"s":[{"equals-ignore-case":"hello"}]}`, true},
		{`{"s":[{"suffix":"llo"}]}`, true},
		{`{"s":[{"anything-but":{"prefix":"He"}}]}`, false},
		{`{"s":[{"anything-but":{"suffix":"x"}}]}`, true},
		{`{"n":[12.5]}`, true},
		{`{"n":[{"numeric":[">=",12.5]}]}`, true},
		{`{"n":[{"numeric":["<",12.5]}]}`, false},
		{`{"n":[{"anything-but":[12.5]}]}`, false},
		{`{"ip":[{"cidr":"10.0.0.0/16"}]}`, true},
		{`{"ip":[{"cidr":"10.1.0.0/16"}]}`, false},
		{`{"arr":["a"]}`, true},
		{`{"arr":[7]}`, true},
		{`{"arr":["b"]}`, false},
		{`{"bin":["x"]}`, false},
		{`{"missing":[{"exists":false}]}`, true},
		{`{"s":[{"exists":true}],"missing":["x"]}`, false},
		{`{"s":["Hello"],"$or":[{"n":[1]},{"ip":[{"prefix":"10."}]}]}`, true},
		{`{"$or":[{"n":[1]},{"ip":[{"prefix":"11."}]}]}`, false},
	}
	for _, c := range cases {
		p, err := parseFilterPolicy(c.policy, scopeAttributes)
		if err != nil {
			t.Errorf("%s: %v", c.policy, err)
			continue
		}
		if got := p.matchAttributes(attrs); got != c.want {
			t.Errorf("%s matched %v, want %v", c.policy, got, c.want)
		}
	}
	var body map[string]any
	dec := json.NewDecoder(strings.NewReader(`{"a":{"b":[1,2],"c":null,"d":false},"e":"x"}`))
	dec.UseNumber()
	dec.Decode(&body)
	bodyCases := []struct {
		policy string
		want   bool
	}{
		{`{"a":{"b":[2]}}`, true},
		{`{"a":{"c":[null]}}`, true},
		{`{"a":{"d":[false]},"e":["x"]}`, true},
		{`{"a":{"d":[true]}}`, false},
		{`{"a":{"z":[{"exists":false}]}}`, true},
		{`{"q":{"z":[{"exists":true}]}}`, false},
	}
	for _, c := range bodyCases {
		p, err := parseFilterPolicy(c.policy, scopeBody)
		if err != nil {
			t.Errorf("%s: %v", c.policy, err)
			continue
		}
		if got := p.matchBody(body); got != c.want {
			t.Errorf("body %s matched %v, want %v", c.policy, got, c.want)
		}
	}
}

func TestFilterPolicyValidation(t *testing.T) {
	bad := []string{
		``, `[]`, `{}`, `{"a":"x"}`, `{"a":[]}`, `{"a":[{"prefix":1}]}`, `{"a":[{"numeric":[">",10,"<",5]}]}`,
		`{"a":[{"numeric":["=",1,"<",5]}]}`, `{"a":[{"numeric":["~",1]}]}`, `{"a":[{"cidr":"nope"}]}`,
		`{"a":[{"exists":"yes"}]}`, `{"a":[{"prefix":"a","suffix":"b"}]}`, `{"$or":[{"a":["x"]}]}`,
		`{"a":[{"anything-but":{"contains":"x"}}]}`, `{"a":[1e10]}`, `{"a":[[1]]}`,
	}
	for _, p := range bad {
		if _, err := parseFilterPolicy(p, scopeBody); err == nil {
			t.Errorf("accepted %q", p)
		}
	}
	if _, err := parseFilterPolicy(`{"a":{"b":["x"]}}`, scopeAttributes); err == nil {
		t.Error("nested policy accepted for attributes")
	}
	// Too many combinations.
	var vals []string
	for i := 0; i < 13; i++ {
		vals = append(vals, `"v`+string(rune('a'+i))+`"`)
	}
	list := "[" + strings.Join(vals, ",") + "]"
	if _, err := parseFilterPolicy(`{"a":`+list+`,"b":`+list+`}`, scopeAttributes); err == nil {
		t.Error("169 combinations accepted")
	}
}

func FuzzFilterPolicy(f *testing.F) {
	for _, s := range []string{
		`{"s":["Hello"]}`, `{"n":[{"numeric":[">=",1,"<",2]}]}`, `{"$or":[{"a":["x"]},{"b":[{"exists":true}]}]}`,
		`{"a":{"b":[{"anything-but":{"prefix":"x"}}]}}`, `{"ip":[{"cidr":"10.0.0.0/8"}]}`, `{"a":[null,true,1.5]}`,
	} {
		f.Add(s, `{"a":{"b":"x"},"s":"Hello","n":1.5}`)
	}
	f.Fuzz(func(t *testing.T, policy, msg string) {
		for _, scope := range []string{scopeAttributes, scopeBody} {
			p, err := parseFilterPolicy(policy, scope)
			if err != nil {
				continue
			}
			p.matchAttributes(map[string]service.MessageAttribute{"s": {DataType: "String", StringValue: msg}, "n": {DataType: "Number", StringValue: msg}, "a": {DataType: "String.Array", StringValue: msg}})
			var body map[string]any
			dec := json.NewDecoder(strings.NewReader(msg))
			dec.UseNumber()
			if dec.Decode(&body) == nil {
				p.matchBody(body)
			}
		}
	})
}
