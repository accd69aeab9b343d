package ec2

import (
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/overcast-dev/overcast/internal/storage"
)

// Tag is a resource tag.
type Tag struct {
	Key, Value string
}

// Record kinds, the first key part of each stored resource.
const (
	kindVPC      = "vpc"
	kindSubnet   = "subnet"
	kindGroup    = "sg"
	kindKey      = "key"
	kindInstance = "instance"
	kindTemplate = "lt"
	kindImage    = "image"
)

type vpcRec struct {
	ID, CIDR, DhcpOptionsID string
	Default                 bool
	Tags                    []Tag
}

type subnetRec struct {
	ID, VPCID, AZ, CIDR string
	Default             bool
	Tags                []Tag
}

type keyRec struct {
	ID, Name, Type, Fingerprint, PublicKey string
	Created                                time.Time
	Tags                                   []Tag
}

// region is the state of one account in one region. Its mutex is held
// while a request validates, persists and applies a change.
type region struct {
	account, name string
	scope         storage.Scope

	mu        sync.Mutex
	vpcs      map[string]*vpcRec
	subnets   map[string]*subnetRec
	groups    map[string]*groupRec
	keys      map[string]*keyRec
	instances map[string]*instance
	templates map[string]*templateRec
	images    map[string]*imageRec
}

func newRegion(account, name string) *region {
	return &region{
		account: account, name: name,
		scope:     storage.Scope{Service: "ec2", Account: account, Region: name},
		vpcs:      map[string]*vpcRec{},
		subnets:   map[string]*subnetRec{},
		groups:    map[string]*groupRec{},
		keys:      map[string]*keyRec{},
		instances: map[string]*instance{},
		templates: map[string]*templateRec{},
		images:    map[string]*imageRec{},
	}
}

// change is a batch of records to write and delete in one transaction.
type change struct {
	puts map[[2]string]any
	dels [][2]string
}

func (c *change) put(kind, id string, v any) *change {
	if c.puts == nil {
		c.puts = map[[2]string]any{}
	}
	c.puts[[2]string{kind, id}] = v
	return c
}

func (c *change) del(kind, id string) *change {
	c.dels = append(c.dels, [2]string{kind, id})
	return c
}

// save commits c for rg. Records are encoded before the transaction, so
// the caller may keep mutating its copies afterwards only if it holds rg.mu.
func (s *Service) save(rg *region, c *change) error {
	type kv struct {
		k, v []byte
	}
	var puts []kv
	for k, v := range c.puts {
		b, err := json.Marshal(v)
		if err != nil {
			return internal(err)
		}
		puts = append(puts, kv{rg.scope.Key(k[0], k[1]), b})
	}
	err := s.kv.Update(func(tx storage.Tx) error {
		for _, p := range puts {
			if err := tx.Put(p.k, p.v); err != nil {
				return err
			}
		}
		for _, d := range c.dels {
			if err := tx.Delete(rg.scope.Key(d[0], d[1])); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return internal(err)
	}
	return nil
}

// regionFor returns the state of account in name, creating its default VPC
// the first time.
func (s *Service) regionFor(account, name string) (*region, error) {
	k := account + "/" + name
	s.mu.Lock()
	defer s.mu.Unlock()
	if rg, ok := s.regions[k]; ok {
		return rg, nil
	}
	rg := newRegion(account, name)
	c := s.defaultVPC(rg)
	if err := s.save(rg, c); err != nil {
		return nil, err
	}
	s.regions[k] = rg
	return rg, nil
}

// lookupRegion returns the state of account in name if it exists.
func (s *Service) lookupRegion(account, name string) *region {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.regions[account+"/"+name]
}

// defaultVPC fills rg with a default VPC, its subnets and default group.
func (s *Service) defaultVPC(rg *region) *change {
	c := &change{}
	v := &vpcRec{ID: newID("vpc"), CIDR: fmt.Sprintf("127.%d.0.0/16", s.network), DhcpOptionsID: newID("dopt"), Default: true}
	rg.vpcs[v.ID] = v
	c.put(kindVPC, v.ID, v)
	for i, z := range []string{"a", "b", "c"} {
		sn := &subnetRec{ID: newID("subnet"), VPCID: v.ID, AZ: rg.name + z, CIDR: fmt.Sprintf("127.%d.%d.0/20", s.network, i*16), Default: true}
		rg.subnets[sn.ID] = sn
		c.put(kindSubnet, sn.ID, sn)
	}
	g := newDefaultGroup(rg, v.ID)
	rg.groups[g.ID] = g
	c.put(kindGroup, g.ID, g)
	return c
}

// load rebuilds every region from the store.
func (s *Service) load() error {
	start, end := storage.ServiceRange("ec2")
	return s.kv.View(func(tx storage.Tx) error {
		var err error
		scanErr := tx.Scan(start, end, func(key, value []byte) bool {
			sc, parts, derr := storage.DecodeKey(key)
			if derr != nil || len(parts) != 2 || sc.Account == "-" {
				return true
			}
			k := sc.Account + "/" + sc.Region
			rg := s.regions[k]
			if rg == nil {
				rg = newRegion(sc.Account, sc.Region)
				s.regions[k] = rg
			}
			id := parts[1]
			switch parts[0] {
			case kindVPC:
				err = decode(value, &rg.vpcs, id)
			case kindSubnet:
				err = decode(value, &rg.subnets, id)
			case kindGroup:
				err = decode(value, &rg.groups, id)
			case kindKey:
				err = decode(value, &rg.keys, id)
			case kindInstance:
				err = decode(value, &rg.instances, id)
				if err == nil {
					in := rg.instances[id]
					if in.PrivateIP != "" {
						s.ips[in.PrivateIP] = id
					}
				}
			case kindTemplate:
				err = decode(value, &rg.templates, id)
			case kindImage:
				err = decode(value, &rg.images, id)
			}
			if err != nil {
				err = fmt.Errorf("ec2: load %s/%s: %w", parts[0], id, err)
				return false
			}
			return true
		})
		if scanErr != nil {
			return scanErr
		}
		return err
	})
}

func decode[T any](b []byte, m *map[string]*T, id string) error {
	v := new(T)
	if err := json.Unmarshal(b, v); err != nil {
		return err
	}
	(*m)[id] = v
	return nil
}

func cloneTags(t []Tag) []Tag {
	if len(t) == 0 {
		return nil
	}
	return append([]Tag(nil), t...)
}

func tagsOut(t []Tag) []any {
	out := make([]any, 0, len(t))
	for _, x := range t {
		out = append(out, map[string]any{"Key": x.Key, "Value": x.Value})
	}
	return out
}

func tagValue(t []Tag, k string) (string, bool) {
	for _, x := range t {
		if x.Key == k {
			return x.Value, true
		}
	}
	return "", false
}

// setTags adds or replaces tags in t.
func setTags(t []Tag, add []Tag) []Tag {
	for _, a := range add {
		replaced := false
		for i := range t {
			if t[i].Key == a.Key {
				t[i].Value = a.Value
				replaced = true
				break
			}
		}
		if !replaced {
			t = append(t, a)
		}
	}
	return t
}
