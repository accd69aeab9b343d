package s3

import "testing"

func TestEventKeyEncoding(t *testing.T) {
	for key, want := range map[string]string{
		"photos/cat.jpg":     "photos/cat.jpg",
		"red flower.jpg":     "red+flower.jpg",
		"a+b/c&d=é":          "a%2Bb/c%26d%3D%C3%A9",
		"deep/er/key (1).md": "deep/er/key+%281%29.md",
	} {
		if got := eventKey(key); got != want {
			t.Errorf("eventKey(%q) = %q, want %q", key, got, want)
		}
	}
}
