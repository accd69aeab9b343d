package storage

import (
	"bytes"
	"errors"
)

// Scope partitions the key space the way AWS partitions resources: by service,
// account and region. Every key a service stores SHOULD be built by a Scope so
// that accounts and regions never see each other's resources and a whole
// partition can be listed with one Scan.
//
// A key is the tuple (Service, Account, Region, parts...), each component
// encoded so that bytewise key order equals component-wise string order:
// a 0x00 byte inside a component is written 0x00 0xFF and every component ends
// with 0x00 0x01. Components may therefore hold any bytes, including 0x00, and
// a shorter component sorts before every longer one it prefixes ("a" < "a/b" <
// "ab"), which is the UTF-8 binary order S3 and DynamoDB list in.
//
// Region is empty for global services such as IAM.
type Scope struct {
	Service string
	Account string
	Region  string
}

// Key returns the key for parts within s, e.g. s.Key("queue", name).
func (s Scope) Key(parts ...string) []byte {
	return s.Prefix(parts...)
}

// Prefix returns the common prefix of every key whose leading parts are parts.
// s.Prefix() is the prefix of the whole partition.
func (s Scope) Prefix(parts ...string) []byte {
	n := len(s.Service) + len(s.Account) + len(s.Region) + 6
	for _, p := range parts {
		n += len(p) + 2
	}
	b := make([]byte, 0, n)
	b = appendComponent(b, s.Service)
	b = appendComponent(b, s.Account)
	b = appendComponent(b, s.Region)
	for _, p := range parts {
		b = appendComponent(b, p)
	}
	return b
}

// Range returns the [start, end) bounds, for Tx.Scan, of every key whose leading
// parts are parts, s.Key(parts...) itself included.
func (s Scope) Range(parts ...string) (start, end []byte) {
	start = s.Prefix(parts...)
	return start, PrefixEnd(start)
}

// PrefixRange returns the [start, end) bounds of every key whose leading parts
// are parts and whose next part begins with prefix: listing S3 keys under
// "photos/" in a bucket is s.PrefixRange([]string{"object", bucket}, "photos/").
func (s Scope) PrefixRange(parts []string, prefix string) (start, end []byte) {
	start = appendEscaped(s.Prefix(parts...), prefix)
	return start, PrefixEnd(start)
}

// Parts decodes a key built by s.Key and returns its parts. It returns an error
// if key does not belong to s or is malformed.
func (s Scope) Parts(key []byte) ([]string, error) {
	p := s.Prefix()
	if !bytes.HasPrefix(key, p) {
		return nil, errors.New("storage: key is outside the scope")
	}
	return splitComponents(key[len(p):])
}

// DecodeKey splits any key built by a Scope into its scope and parts, for code
// that scans across accounts or regions (see ServiceRange).
func DecodeKey(key []byte) (Scope, []string, error) {
	c, err := splitComponents(key)
	if err != nil {
		return Scope{}, nil, err
	}
	if len(c) < 3 {
		return Scope{}, nil, errors.New("storage: key has no scope")
	}
	return Scope{Service: c[0], Account: c[1], Region: c[2]}, c[3:], nil
}

// ServiceRange returns the [start, end) bounds of every key of service, across
// all accounts and regions.
func ServiceRange(service string) (start, end []byte) {
	start = appendComponent(nil, service)
	return start, PrefixEnd(start)
}

// PrefixEnd returns the smallest key greater than every key that begins with
// prefix, or nil (unbounded) if there is none, i.e. prefix is empty or all 0xFF.
func PrefixEnd(prefix []byte) []byte {
	for i := len(prefix) - 1; i >= 0; i-- {
		if prefix[i] != 0xFF {
			end := make([]byte, i+1)
			copy(end, prefix)
			end[i]++
			return end
		}
	}
	return nil
}

func appendEscaped(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] == 0x00 {
			b = append(b, 0x00, 0xFF)
		} else {
			b = append(b, s[i])
		}
	}
	return b
}

func appendComponent(b []byte, s string) []byte {
	return append(appendEscaped(b, s), 0x00, 0x01)
}

var errMalformedKey = errors.New("storage: malformed scoped key")

func splitComponents(b []byte) ([]string, error) {
	var parts []string
	var cur []byte
	for i := 0; i < len(b); i++ {
		if b[i] != 0x00 {
			cur = append(cur, b[i])
			continue
		}
		if i+1 >= len(b) {
			return nil, errMalformedKey
		}
		i++
		switch b[i] {
		case 0xFF:
			cur = append(cur, 0x00)
		case 0x01:
			parts = append(parts, string(cur))
			cur = cur[:0]
		default:
			return nil, errMalformedKey
		}
	}
	if len(cur) > 0 {
		return nil, errMalformedKey
	}
	return parts, nil
}
