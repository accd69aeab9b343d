package ec2

import (
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/overcast-dev/overcast/internal/service"
)

// imageRec is an AMI: a built-in one or one registered in a region.
type imageRec struct {
	ID, Name, Description, Owner, OwnerAlias string
	Platform                                 string // "" (Linux/UNIX) only
	// Location is ImageLocation; Program is the executable an instance of
	// the image runs as its init program, and Dir its working directory.
	Location, Program, Dir string
	Created                time.Time
	Tags                   []Tag
}

// Built-in image ids; the same in every region.
const (
	ImageAmazonLinux = "ami-0overcast00000001"
	ImageUbuntu      = "ami-0overcast00000002"
	ImageHost        = "ami-0overcast00000003"
)

var builtinCreated = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func builtinImages() []*imageRec {
	arch := archName()
	return []*imageRec{
		{ID: ImageAmazonLinux, Name: "al2023-ami-2023.0.overcast-kernel-6.1-" + arch, Description: "Amazon Linux 2023 AMI (runs user data on the Overcast host)", Owner: "137112412989", OwnerAlias: "amazon", Created: builtinCreated},
		{ID: ImageUbuntu, Name: "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-" + map[string]string{"x86_64": "amd64", "arm64": "arm64"}[arch] + "-server-overcast", Description: "Canonical, Ubuntu, 24.04, (runs user data on the Overcast host)", Owner: "099720109477", Created: builtinCreated},
		{ID: ImageHost, Name: "overcast-host-" + arch, Description: "The Overcast host: user data runs as the instance's program", Owner: "000000000000", OwnerAlias: "amazon", Created: builtinCreated},
	}
}

func archName() string {
	if runtime.GOARCH == "arm64" {
		return "arm64"
	}
	return "x86_64"
}

// image returns an image by id; rg.mu is held.
func (rg *region) image(id string) (*imageRec, error) {
	if !strings.HasPrefix(id, "ami-") {
		return nil, errf(codeAMIMalformed, "Invalid id: \"%s\" (expecting \"ami-...\")", id)
	}
	for _, im := range builtinImages() {
		if im.ID == id {
			return im, nil
		}
	}
	if im := rg.images[id]; im != nil {
		return im, nil
	}
	return nil, errf(codeAMINotFound, "The image id '[%s]' does not exist", id)
}

func (im *imageRec) fields(rg *region) fieldFunc {
	return func(name string) ([]string, bool) {
		if vals, ok := tagFields(im.Tags, name); ok {
			return vals, true
		}
		switch name {
		case "image-id":
			return []string{im.ID}, true
		case "name":
			return []string{im.Name}, true
		case "description":
			return []string{im.Description}, true
		case "owner-id":
			return []string{im.ownerID(rg)}, true
		case "owner-alias":
			return []string{im.OwnerAlias}, true
		case "architecture":
			return []string{archName()}, true
		case "state":
			return []string{"available"}, true
		case "is-public":
			return []string{boolStr(im.Owner != "")}, true
		case "image-type":
			return []string{"machine"}, true
		case "root-device-type":
			return []string{"ebs"}, true
		case "virtualization-type":
			return []string{"hvm"}, true
		case "platform-details":
			return []string{"Linux/UNIX"}, true
		case "hypervisor":
			return []string{"xen"}, true
		case "manifest-location", "image-location":
			return []string{im.location(rg)}, true
		}
		return nil, false
	}
}

func (im *imageRec) ownerID(rg *region) string {
	if im.Owner != "" {
		return im.Owner
	}
	return rg.account
}

func (im *imageRec) location(rg *region) string {
	if im.Location != "" {
		return im.Location
	}
	return im.ownerID(rg) + "/" + im.Name
}

func (im *imageRec) out(rg *region) map[string]any {
	m := map[string]any{
		"ImageId": im.ID, "Name": im.Name, "Description": im.Description, "OwnerId": im.ownerID(rg),
		"ImageLocation": im.location(rg), "State": "available", "Public": im.Owner != "",
		"Architecture": archName(), "ImageType": "machine", "RootDeviceType": "ebs", "RootDeviceName": "/dev/xvda",
		"VirtualizationType": "hvm", "Hypervisor": "xen", "EnaSupport": true, "SriovNetSupport": "simple",
		"PlatformDetails": "Linux/UNIX", "UsageOperation": "RunInstances", "BootMode": "uefi-preferred",
		"ImdsSupport": "v2.0", "CreationDate": im.Created.UTC().Format("2006-01-02T15:04:05.000Z"),
		"BlockDeviceMappings": []any{map[string]any{"DeviceName": "/dev/xvda", "Ebs": map[string]any{
			"DeleteOnTermination": true, "VolumeSize": int64(8), "VolumeType": "gp3", "Encrypted": false,
			"SnapshotId": "snap-" + strings.TrimPrefix(im.ID, "ami-"),
		}}},
		"Tags": tagsOut(im.Tags),
	}
	if im.OwnerAlias != "" {
		m["ImageOwnerAlias"] = im.OwnerAlias
	}
	return m
}

func (s *Service) describeImages(r *service.Request) (map[string]any, error) {
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
	ids := service.Strings(r.Input, "ImageIds")
	for _, id := range ids {
		if _, err := rg.image(id); err != nil {
			return nil, err
		}
	}
	owners := service.Strings(r.Input, "Owners")
	all := append(builtinImages(), mapValues(rg.images)...)
	var list []*imageRec
	for _, im := range all {
		if len(ids) > 0 && !slices.Contains(ids, im.ID) {
			continue
		}
		if len(owners) > 0 && !slices.ContainsFunc(owners, func(o string) bool {
			return o == im.ownerID(rg) || (o == "self" && im.Owner == "") || (o != "" && o == im.OwnerAlias)
		}) {
			continue
		}
		f := im.fields(rg)
		if err := validateFilters(fs, f); err != nil {
			return nil, err
		}
		if matches(fs, f) {
			list = append(list, im)
		}
	}
	page, next, err := paginate(r.Input, list, func(im *imageRec) string { return im.ID }, 1, 1000)
	if err != nil {
		return nil, err
	}
	out := make([]any, len(page))
	for i, im := range page {
		out[i] = im.out(rg)
	}
	return withToken(map[string]any{"Images": out}, next), nil
}

func mapValues[T any](m map[string]*T) []*T {
	out := make([]*T, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

func (s *Service) registerImage(r *service.Request) (map[string]any, error) {
	name := service.Str(r.Input, "Name")
	if name == "" {
		return nil, missingParam("Name")
	}
	if len(name) < 3 || len(name) > 128 {
		return nil, invalidParam("AMI names must be between 3 and 128 characters long")
	}
	im := &imageRec{ID: newID("ami"), Name: name, Description: service.Str(r.Input, "Description"), Created: s.clk.Now().UTC()}
	if loc := service.Str(r.Input, "ImageLocation"); loc != "" {
		if !filepath.IsAbs(loc) {
			return nil, invalidParam("Invalid value '%s' for ImageLocation: expecting an absolute path to a local executable or directory", loc)
		}
		st, err := os.Stat(loc)
		if err != nil {
			return nil, invalidParam("Invalid value '%s' for ImageLocation: %v", loc, err)
		}
		im.Location = loc
		if st.IsDir() {
			im.Dir = loc
		} else if st.Mode()&0o111 != 0 {
			im.Program = loc
		} else {
			return nil, invalidParam("Invalid value '%s' for ImageLocation: not an executable or a directory", loc)
		}
	}
	tags, err := tagSpecs(r.Input, "image")
	if err != nil {
		return nil, err
	}
	im.Tags = tags
	rg, err := s.regionFor(r.Account, r.Region)
	if err != nil {
		return nil, err
	}
	rg.mu.Lock()
	defer rg.mu.Unlock()
	for _, o := range rg.images {
		if o.Name == name {
			return nil, errf("InvalidAMIName.Duplicate", "AMI name %s is already in use by AMI %s", name, o.ID)
		}
	}
	if err := s.save(rg, (&change{}).put(kindImage, im.ID, im)); err != nil {
		return nil, err
	}
	rg.images[im.ID] = im
	return map[string]any{"ImageId": im.ID}, nil
}

func (s *Service) deregisterImage(r *service.Request) (map[string]any, error) {
	id := service.Str(r.Input, "ImageId")
	if id == "" {
		return nil, missingParam("ImageId")
	}
	rg, err := s.regionFor(r.Account, r.Region)
	if err != nil {
		return nil, err
	}
	rg.mu.Lock()
	defer rg.mu.Unlock()
	im, err := rg.image(id)
	if err != nil {
		return nil, err
	}
	if rg.images[id] == nil {
		return nil, errf("AuthFailure", "Not authorized for image:%s", im.ID)
	}
	if err := s.save(rg, (&change{}).del(kindImage, id)); err != nil {
		return nil, err
	}
	delete(rg.images, id)
	return map[string]any{"Return": true}, nil
}
