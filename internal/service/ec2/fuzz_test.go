package ec2

import (
	"strings"
	"testing"
)

func TestCloudConfig(t *testing.T) {
	doc := `#cloud-config
packages: [nginx]   # ignored
write_files:
  - path: /srv/www/index.html
    permissions: '0600'
    content: |
      <h1>hi</h1>
      second line
  - path: /srv/b64
    encoding: b64
    content: aGVsbG8=
runcmd:
  - echo "one two"
  - [ sh, -c, 'echo it''s ok' ]
  -
    - printf
    - "%s\n"
    - three
bootcmd:
  - echo boot
`
	cc, err := parseCloudConfig(doc)
	if err != nil {
		t.Fatal(err)
	}
	if len(cc.Files) != 2 || cc.Files[0].Path != "/srv/www/index.html" || string(cc.Files[0].Content) != "<h1>hi</h1>\nsecond line\n" || cc.Files[0].Mode != 0o600 {
		t.Errorf("files = %+v", cc.Files)
	}
	if string(cc.Files[1].Content) != "hello" {
		t.Errorf("b64 content = %q", cc.Files[1].Content)
	}
	want := "echo boot\necho \"one two\"\n'sh' '-c' 'echo it'\\''s ok'\n'printf' '%s\n' 'three'\n"
	if cc.Script != want {
		t.Errorf("script = %q, want %q", cc.Script, want)
	}
	for _, bad := range []string{"#cloud-config\nruncmd: [a, b", "#cloud-config\nwrite_files:\n  - content: x\n", "#cloud-config\n- a\n"} {
		if _, err := parseCloudConfig(bad); err == nil {
			t.Errorf("parseCloudConfig(%q) succeeded", bad)
		}
	}
}

func TestGlobAndVCPUs(t *testing.T) {
	for _, c := range []struct {
		p, v string
		ok   bool
	}{{"web-*", "web-1", true}, {"*a?c*", "xxabcyy", true}, {"a*", "b", false}, {"*/x", "a/b/x", true}, {"a?", "a", false}} {
		if glob(c.p, c.v) != c.ok {
			t.Errorf("glob(%q, %q) = %v", c.p, c.v, !c.ok)
		}
	}
	for typ, n := range map[string]int{"t2.micro": 1, "t3.micro": 2, "m5.xlarge": 4, "c5.4xlarge": 16, "weird": 1} {
		if vcpus(typ) != n {
			t.Errorf("vcpus(%s) = %d, want %d", typ, vcpus(typ), n)
		}
	}
}

func FuzzCloudConfig(f *testing.F) {
	f.Add("#cloud-config\nruncmd:\n  - echo hi\n  - [a, 'b', \"c\"]\nwrite_files:\n  - path: /x\n    content: |\n      y\n")
	f.Add("#cloud-config\nwrite_files:\n- path: a\n  content: >-\n    folded\n    text\n\n    para\n")
	f.Add("#cloud-config\na:\n  b:\n    - - x\n      - y\n")
	f.Fuzz(func(t *testing.T, doc string) {
		cc, err := parseCloudConfig(doc)
		if err == nil && cc == nil {
			t.Fatal("nil config without error")
		}
	})
}

func FuzzParsePublicKey(f *testing.F) {
	f.Add([]byte("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGkJ5fsYYBkd2m2hKQdLxsm1gY6nPfXNXy9aHNRhV7iL c"))
	f.Add([]byte("ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAAQC7"))
	f.Add([]byte("garbage"))
	f.Fuzz(func(t *testing.T, b []byte) {
		typ, fp, line, err := parsePublicKey(b)
		if err == nil && (typ == "" || fp == "" || !strings.HasPrefix(line, "ssh-")) {
			t.Fatalf("accepted key with type %q fingerprint %q line %q", typ, fp, line)
		}
	})
}

func FuzzGlob(f *testing.F) {
	f.Add("a*b?c", "axxbyc")
	f.Fuzz(func(t *testing.T, p, v string) {
		if glob(p, v) != glob(p, v) {
			t.Fatal("glob is not deterministic")
		}
		if !strings.ContainsAny(p, "*?") && glob(p, v) != (p == v) {
			t.Fatalf("literal pattern %q vs %q", p, v)
		}
	})
}
