package ec2

import (
	"bytes"
	"crypto/ed25519"
	"crypto/md5"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"math/big"
	"slices"
	"strings"

	"github.com/overcast-dev/overcast/internal/service"
)

func colonHex(b []byte) string {
	h := hex.EncodeToString(b)
	var sb strings.Builder
	for i := 0; i < len(h); i += 2 {
		if i > 0 {
			sb.WriteByte(':')
		}
		sb.WriteString(h[i : i+2])
	}
	return sb.String()
}

// sshString appends an SSH wire-format string.
func sshString(b, s []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

func sshMPInt(b []byte, n *big.Int) []byte {
	v := n.Bytes()
	if len(v) > 0 && v[0]&0x80 != 0 {
		v = append([]byte{0}, v...)
	}
	return sshString(b, v)
}

// parsePublicKey parses an OpenSSH authorized_keys line ("ssh-rsa AAAA...
// comment") and returns its key type ("rsa" or "ed25519"), the EC2
// fingerprint and the line without its comment.
func parsePublicKey(material []byte) (keyType, fingerprint, line string, err error) {
	fields := strings.Fields(string(bytes.TrimSpace(material)))
	if len(fields) < 2 {
		return "", "", "", errors.New("not an OpenSSH public key")
	}
	blob, err := base64.StdEncoding.DecodeString(fields[1])
	if err != nil {
		return "", "", "", err
	}
	rd := func(b []byte) ([]byte, []byte, bool) {
		if len(b) < 4 {
			return nil, nil, false
		}
		n := binary.BigEndian.Uint32(b)
		if uint64(n) > uint64(len(b)-4) {
			return nil, nil, false
		}
		return b[4 : 4+n], b[4+n:], true
	}
	name, rest, ok := rd(blob)
	if !ok || string(name) != fields[0] {
		return "", "", "", errors.New("key type mismatch")
	}
	line = fields[0] + " " + fields[1]
	switch fields[0] {
	case "ssh-rsa":
		e, rest, ok1 := rd(rest)
		n, _, ok2 := rd(rest)
		if !ok1 || !ok2 || len(e) == 0 || len(e) > 8 || len(n) == 0 {
			return "", "", "", errors.New("malformed RSA key")
		}
		ev := new(big.Int).SetBytes(e)
		if !ev.IsInt64() || ev.Int64() < 3 || ev.Int64() > 1<<31-1 {
			return "", "", "", errors.New("bad RSA exponent")
		}
		pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(ev.Int64())}
		if pub.N.BitLen() < 1024 || pub.N.BitLen() > 16384 {
			return "", "", "", errors.New("bad RSA modulus")
		}
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			return "", "", "", err
		}
		sum := md5.Sum(der)
		return "rsa", colonHex(sum[:]), line, nil
	case "ssh-ed25519":
		k, _, ok := rd(rest)
		if !ok || len(k) != ed25519.PublicKeySize {
			return "", "", "", errors.New("malformed ed25519 key")
		}
		sum := sha256.Sum256(blob)
		return "ed25519", base64.StdEncoding.EncodeToString(sum[:]) + "=", line, nil
	}
	return "", "", "", errors.New("unsupported key type")
}

func (k *keyRec) fields(name string) ([]string, bool) {
	if vals, ok := tagFields(k.Tags, name); ok {
		return vals, true
	}
	switch name {
	case "key-name":
		return []string{k.Name}, true
	case "key-pair-id":
		return []string{k.ID}, true
	case "fingerprint":
		return []string{k.Fingerprint}, true
	case "key-type":
		return []string{k.Type}, true
	}
	return nil, false
}

func validKeyName(name string) error {
	if name == "" {
		return missingParam("KeyName")
	}
	if len(name) > 255 {
		return invalidParam("Value for parameter KeyName is too long")
	}
	return nil
}

func (s *Service) createKeyPair(r *service.Request) (map[string]any, error) {
	name := service.Str(r.Input, "KeyName")
	if err := validKeyName(name); err != nil {
		return nil, err
	}
	keyType := service.Str(r.Input, "KeyType")
	if keyType == "" {
		keyType = "rsa"
	}
	format := service.Str(r.Input, "KeyFormat")
	if format == "" {
		format = "pem"
	}
	if keyType != "rsa" && keyType != "ed25519" {
		return nil, invalidParam("Invalid value '%s' for KeyType", keyType)
	}
	if format != "pem" && format != "ppk" {
		return nil, invalidParam("Invalid value '%s' for KeyFormat", format)
	}
	if format == "ppk" {
		return nil, errf(codeUnsupported, "The ppk key format is not supported.")
	}
	tags, err := tagSpecs(r.Input, "key-pair")
	if err != nil {
		return nil, err
	}
	rg, err := s.regionFor(r.Account, r.Region)
	if err != nil {
		return nil, err
	}
	// Generate outside the lock: RSA keys take a while.
	var material, pubLine, fp string
	switch keyType {
	case "rsa":
		priv, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return nil, internal(err)
		}
		material = string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(priv)}))
		pkcs8, _ := x509.MarshalPKCS8PrivateKey(priv)
		sum := sha1.Sum(pkcs8)
		fp = colonHex(sum[:])
		blob := sshString(nil, []byte("ssh-rsa"))
		blob = sshMPInt(blob, big.NewInt(int64(priv.E)))
		blob = sshMPInt(blob, priv.N)
		pubLine = "ssh-rsa " + base64.StdEncoding.EncodeToString(blob)
	case "ed25519":
		pub, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, internal(err)
		}
		pkcs8, _ := x509.MarshalPKCS8PrivateKey(priv)
		material = string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}))
		blob := sshString(sshString(nil, []byte("ssh-ed25519")), pub)
		sum := sha256.Sum256(blob)
		fp = base64.StdEncoding.EncodeToString(sum[:]) + "="
		pubLine = "ssh-ed25519 " + base64.StdEncoding.EncodeToString(blob)
	}
	rg.mu.Lock()
	defer rg.mu.Unlock()
	k, err := s.addKey(rg, name, keyType, fp, pubLine, tags)
	if err != nil {
		return nil, err
	}
	return map[string]any{"KeyPairId": k.ID, "KeyName": k.Name, "KeyFingerprint": k.Fingerprint, "KeyMaterial": material, "Tags": tagsOut(k.Tags)}, nil
}

// addKey stores a new key pair; rg.mu is held.
func (s *Service) addKey(rg *region, name, keyType, fp, pub string, tags []Tag) (*keyRec, error) {
	for _, k := range rg.keys {
		if k.Name == name {
			return nil, errf(codeKeyPairDuplicate, "The keypair '%s' already exists.", name)
		}
	}
	k := &keyRec{ID: newID("key"), Name: name, Type: keyType, Fingerprint: fp, PublicKey: pub, Created: s.clk.Now().UTC(), Tags: tags}
	if err := s.save(rg, (&change{}).put(kindKey, k.ID, k)); err != nil {
		return nil, err
	}
	rg.keys[k.ID] = k
	return k, nil
}

func (s *Service) importKeyPair(r *service.Request) (map[string]any, error) {
	name := service.Str(r.Input, "KeyName")
	if err := validKeyName(name); err != nil {
		return nil, err
	}
	material, _ := r.Input["PublicKeyMaterial"].([]byte)
	if len(material) == 0 {
		return nil, missingParam("PublicKeyMaterial")
	}
	keyType, fp, line, err := parsePublicKey(material)
	if err != nil {
		return nil, errf(codeKeyFormat, "Key is not in valid OpenSSH public key format")
	}
	tags, err := tagSpecs(r.Input, "key-pair")
	if err != nil {
		return nil, err
	}
	rg, err := s.regionFor(r.Account, r.Region)
	if err != nil {
		return nil, err
	}
	rg.mu.Lock()
	defer rg.mu.Unlock()
	k, err := s.addKey(rg, name, keyType, fp, line, tags)
	if err != nil {
		return nil, err
	}
	return map[string]any{"KeyPairId": k.ID, "KeyName": k.Name, "KeyFingerprint": k.Fingerprint, "Tags": tagsOut(k.Tags)}, nil
}

func (rg *region) keyByName(name string) *keyRec {
	for _, k := range rg.keys {
		if k.Name == name {
			return k
		}
	}
	return nil
}

func (s *Service) describeKeyPairs(r *service.Request) (map[string]any, error) {
	fs, err := parseFilters(r.Input)
	if err != nil {
		return nil, err
	}
	rg, err := s.regionFor(r.Account, r.Region)
	if err != nil {
		return nil, err
	}
	rg.mu.Lock()
	defer rg.mu.Unlock()
	names := service.Strings(r.Input, "KeyNames")
	ids := service.Strings(r.Input, "KeyPairIds")
	for _, n := range names {
		if rg.keyByName(n) == nil {
			return nil, errf(codeKeyPairNotFound, "The key pair '%s' does not exist", n)
		}
	}
	for _, id := range ids {
		if rg.keys[id] == nil {
			return nil, errf(codeKeyPairNotFound, "The key pair '%s' does not exist", id)
		}
	}
	var list []*keyRec
	for _, k := range rg.keys {
		if (len(names) > 0 || len(ids) > 0) && !slices.Contains(names, k.Name) && !slices.Contains(ids, k.ID) {
			continue
		}
		if err := validateFilters(fs, k.fields); err != nil {
			return nil, err
		}
		if matches(fs, k.fields) {
			list = append(list, k)
		}
	}
	slices.SortFunc(list, func(a, b *keyRec) int { return strings.Compare(a.Name, b.Name) })
	out := make([]any, len(list))
	for i, k := range list {
		m := map[string]any{"KeyPairId": k.ID, "KeyName": k.Name, "KeyType": k.Type, "KeyFingerprint": k.Fingerprint, "CreateTime": k.Created, "Tags": tagsOut(k.Tags)}
		if service.Bool(r.Input, "IncludePublicKey") {
			m["PublicKey"] = k.PublicKey
		}
		out[i] = m
	}
	return map[string]any{"KeyPairs": out}, nil
}

func (s *Service) deleteKeyPair(r *service.Request) (map[string]any, error) {
	name, id := service.Str(r.Input, "KeyName"), service.Str(r.Input, "KeyPairId")
	if name == "" && id == "" {
		return nil, missingParam("KeyName")
	}
	rg, err := s.regionFor(r.Account, r.Region)
	if err != nil {
		return nil, err
	}
	rg.mu.Lock()
	defer rg.mu.Unlock()
	k := rg.keys[id]
	if k == nil && name != "" {
		k = rg.keyByName(name)
	}
	if k == nil {
		if id != "" {
			return nil, errf(codeKeyPairNotFound, "The key pair '%s' does not exist", id)
		}
		return map[string]any{"Return": true}, nil // deleting a missing name succeeds, as on AWS
	}
	if err := s.save(rg, (&change{}).del(kindKey, k.ID)); err != nil {
		return nil, err
	}
	delete(rg.keys, k.ID)
	return map[string]any{"Return": true, "KeyPairId": k.ID}, nil
}
