package ec2

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

type imdsAddrKey struct{}

// imdsConnContext records the local address a metadata connection arrived
// on: it names the instance.
func imdsConnContext(ctx context.Context, c net.Conn) context.Context {
	if a, ok := c.LocalAddr().(*net.TCPAddr); ok {
		return context.WithValue(ctx, imdsAddrKey{}, a.IP.String())
	}
	return ctx
}

// imdsView is what the metadata service needs of an instance, copied under
// its region's lock.
type imdsView struct {
	in      instance
	account string
	region  string
	groups  []string
}

func (s *Service) imdsLookup(ip string) (*imdsView, bool) {
	s.mu.Lock()
	ref := s.byIP[ip]
	s.mu.Unlock()
	if ref == nil {
		return nil, false
	}
	rg := ref.rg
	rg.mu.Lock()
	defer rg.mu.Unlock()
	in := rg.instances[ref.id]
	if in == nil {
		return nil, false
	}
	v := &imdsView{in: *in, account: rg.account, region: rg.name}
	v.in.Tags = cloneTags(in.Tags)
	for _, id := range in.SecurityGroups {
		if g := rg.groups[id]; g != nil {
			v.groups = append(v.groups, g.Name)
		}
	}
	return v, true
}

// token returns an IMDSv2 token for instance id valid until exp.
func (s *Service) token(id string, exp time.Time) string {
	b := binary.BigEndian.AppendUint64(nil, uint64(exp.Unix()))
	b = append(b, id...)
	mac := hmac.New(sha256.New, s.tokenKey[:])
	mac.Write(b)
	return base64.RawURLEncoding.EncodeToString(append(b, mac.Sum(nil)...))
}

func (s *Service) validToken(tok, id string) bool {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(b) < 8+sha256.Size {
		return false
	}
	body, sum := b[:len(b)-sha256.Size], b[len(b)-sha256.Size:]
	mac := hmac.New(sha256.New, s.tokenKey[:])
	mac.Write(body)
	if !hmac.Equal(sum, mac.Sum(nil)) || string(body[8:]) != id {
		return false
	}
	return s.clk.Now().Unix() < int64(binary.BigEndian.Uint64(body[:8]))
}

func (s *Service) serveIMDS(w http.ResponseWriter, r *http.Request) {
	ip, _ := r.Context().Value(imdsAddrKey{}).(string)
	v, ok := s.imdsLookup(ip)
	if !ok || v.in.HTTPEndpoint == "disabled" {
		http.NotFound(w, r)
		return
	}
	in := &v.in
	w.Header().Set("Server", "EC2ws")
	if r.URL.Path == "/latest/api/token" {
		if r.Method != http.MethodPut {
			w.Header().Set("Allow", "OPTIONS, PUT")
			http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
			return
		}
		if r.Header.Get("X-Forwarded-For") != "" {
			http.Error(w, "Forbidden", http.StatusForbidden)
			return
		}
		ttl, err := strconv.Atoi(r.Header.Get("X-aws-ec2-metadata-token-ttl-seconds"))
		if err != nil || ttl < 1 || ttl > 21600 {
			http.Error(w, "Bad Request", http.StatusBadRequest)
			return
		}
		w.Header().Set("X-aws-ec2-metadata-token-ttl-seconds", strconv.Itoa(ttl))
		w.Header().Set("Content-Type", "text/plain")
		w.Write([]byte(s.token(in.ID, s.clk.Now().Add(time.Duration(ttl)*time.Second))))
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "OPTIONS, GET, HEAD")
		http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
		return
	}
	if tok := r.Header.Get("X-aws-ec2-metadata-token"); tok != "" {
		if !s.validToken(tok, in.ID) {
			http.Error(w, "Unauthorized", http.StatusUnauthorized)
			return
		}
	} else if in.HTTPTokens == "required" {
		http.Error(w, "Unauthorized", http.StatusUnauthorized)
		return
	}
	body, ctype, ok := s.metadata(r.Context(), v, r.URL.Path)
	if !ok {
		http.Error(w, "Not Found", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", ctype)
	w.Write(body)
}

// metadata answers one metadata path.
func (s *Service) metadata(ctx context.Context, v *imdsView, p string) ([]byte, string, bool) {
	in := &v.in
	text := func(s string) ([]byte, string, bool) { return []byte(s), "text/plain", true }
	list := func(items ...string) ([]byte, string, bool) { return text(strings.Join(items, "\n")) }
	switch p {
	case "/", "":
		return list("latest")
	case "/latest", "/latest/":
		return list("api/", "dynamic/", "meta-data/", "user-data")
	case "/latest/user-data", "/latest/user-data/":
		if len(in.UserData) == 0 {
			return nil, "", false
		}
		return in.UserData, "application/octet-stream", true
	case "/latest/dynamic", "/latest/dynamic/":
		return list("instance-identity/")
	case "/latest/dynamic/instance-identity", "/latest/dynamic/instance-identity/":
		return list("document", "pkcs7", "signature")
	case "/latest/dynamic/instance-identity/document":
		doc := map[string]any{
			"accountId": v.account, "architecture": archName(), "availabilityZone": in.AZ,
			"billingProducts": nil, "devpayProductCodes": nil, "marketplaceProductCodes": nil,
			"imageId": in.ImageID, "instanceId": in.ID, "instanceType": in.InstanceType,
			"kernelId": nil, "pendingTime": in.LaunchTime.UTC().Format(time.RFC3339),
			"privateIp": in.PrivateIP, "ramdiskId": nil, "region": v.region, "version": "2017-09-30",
		}
		b, _ := json.MarshalIndent(doc, "", "  ")
		return b, "application/json", true
	case "/latest/dynamic/instance-identity/signature", "/latest/dynamic/instance-identity/pkcs7":
		return text(base64.StdEncoding.EncodeToString([]byte("overcast-unsigned-" + in.ID)))
	}
	md, ok := strings.CutPrefix(p, "/latest/meta-data")
	if !ok {
		return nil, "", false
	}
	md = strings.TrimPrefix(md, "/")
	dns := in.dnsName(v.region)
	mac := macOf(in.PrivateIP)
	switch md {
	case "":
		items := []string{"ami-id", "ami-launch-index", "hostname", "iam/", "instance-action", "instance-id",
			"instance-life-cycle", "instance-type", "local-hostname", "local-ipv4", "mac", "network/",
			"placement/", "reservation-id", "security-groups", "services/"}
		if in.MetadataTags {
			items = append(items, "tags/")
		}
		sort.Strings(items)
		return list(items...)
	case "ami-id":
		return text(in.ImageID)
	case "ami-launch-index":
		return text(strconv.FormatInt(in.LaunchIndex, 10))
	case "instance-id":
		return text(in.ID)
	case "instance-type":
		return text(in.InstanceType)
	case "instance-action":
		return text("none")
	case "instance-life-cycle":
		return text("on-demand")
	case "local-ipv4":
		return text(in.PrivateIP)
	case "hostname", "local-hostname":
		return text(dns)
	case "mac":
		return text(mac)
	case "reservation-id":
		return text(in.ReservationID)
	case "security-groups":
		return list(v.groups...)
	case "placement", "placement/":
		return list("availability-zone", "availability-zone-id", "region")
	case "placement/availability-zone":
		return text(in.AZ)
	case "placement/availability-zone-id":
		return text(zoneID(v.region, int(in.AZ[len(in.AZ)-1]-'a')))
	case "placement/region":
		return text(v.region)
	case "services", "services/":
		return list("domain", "partition")
	case "services/domain":
		return text("amazonaws.com")
	case "services/partition":
		return text("aws")
	case "network", "network/", "network/interfaces", "network/interfaces/":
		if md == "network" || md == "network/" {
			return list("interfaces/")
		}
		return list("macs/")
	case "network/interfaces/macs", "network/interfaces/macs/":
		return list(mac + "/")
	case "tags", "tags/":
		if !in.MetadataTags {
			return nil, "", false
		}
		return list("instance/")
	case "tags/instance", "tags/instance/":
		if !in.MetadataTags {
			return nil, "", false
		}
		var keys []string
		for _, t := range in.Tags {
			keys = append(keys, t.Key)
		}
		return list(keys...)
	}
	if k, ok := strings.CutPrefix(md, "tags/instance/"); ok && in.MetadataTags {
		if val, ok := tagValue(in.Tags, k); ok {
			return text(val)
		}
		return nil, "", false
	}
	if rest, ok := strings.CutPrefix(md, "network/interfaces/macs/"+mac+"/"); ok {
		switch strings.TrimSuffix(rest, "/") {
		case "":
			return list("device-number", "interface-id", "local-hostname", "local-ipv4s", "mac", "security-group-ids", "subnet-id", "vpc-id")
		case "device-number":
			return text("0")
		case "interface-id":
			return text("eni-" + strings.TrimPrefix(in.ID, "i-"))
		case "local-hostname":
			return text(dns)
		case "local-ipv4s":
			return text(in.PrivateIP)
		case "mac":
			return text(mac)
		case "security-group-ids":
			return list(in.SecurityGroups...)
		case "subnet-id":
			return text(in.SubnetID)
		case "vpc-id":
			return text(in.VPCID)
		}
		return nil, "", false
	}
	if strings.HasPrefix(md, "iam") {
		return s.iamMetadata(ctx, v, strings.TrimPrefix(md, "iam"))
	}
	return nil, "", false
}

func (s *Service) iamMetadata(ctx context.Context, v *imdsView, p string) ([]byte, string, bool) {
	in := &v.in
	if in.ProfileARN == "" {
		return nil, "", false
	}
	role, creds, err := s.roleCredentials(ctx, v.account, in.ProfileARN)
	if err != nil {
		s.log.Error("instance credentials", "instance", in.ID, "err", err)
		return nil, "", false
	}
	now := s.clk.Now().UTC()
	switch p {
	case "", "/":
		return []byte("info\nsecurity-credentials/"), "text/plain", true
	case "/info":
		b, _ := json.MarshalIndent(map[string]any{
			"Code": "Success", "LastUpdated": now.Format(time.RFC3339),
			"InstanceProfileArn": in.ProfileARN, "InstanceProfileId": in.ProfileID,
		}, "", "  ")
		return b, "text/plain", true
	case "/security-credentials", "/security-credentials/":
		return []byte(role), "text/plain", true
	case "/security-credentials/" + role:
		exp := creds.Expiration
		if exp.IsZero() {
			exp = now.Add(6 * time.Hour)
		}
		b, _ := json.MarshalIndent(map[string]any{
			"Code": "Success", "LastUpdated": now.Format(time.RFC3339), "Type": "AWS-HMAC",
			"AccessKeyId": creds.AccessKeyID, "SecretAccessKey": creds.SecretAccessKey,
			"Token": creds.SessionToken, "Expiration": exp.UTC().Format(time.RFC3339),
		}, "", "  ")
		return b, "text/plain", true
	}
	return nil, "", false
}

// roleCredentials returns the role and credentials of an instance profile.
func (s *Service) roleCredentials(ctx context.Context, account, profileARN string) (string, Credentials, error) {
	if s.opts.Roles != nil {
		return s.opts.Roles.RoleCredentials(ctx, account, profileARN)
	}
	role := profileARN[strings.LastIndex(profileARN, "/")+1:]
	return role, s.opts.Credentials, nil
}
