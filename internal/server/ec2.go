package server

import (
	"net"
	"path/filepath"

	"github.com/overcast-dev/overcast/internal/service/ec2"
)

// ec2Options builds EC2's options from the shared parts: instances call
// back with the root credentials, or their instance profile role's, keep their directories under the data
// directory, and learn the endpoint from the listen address until a
// request shows it.
func ec2Options(p *parts) ec2.Options {
	o := ec2.Options{
		Clock:       p.clock,
		Logger:      p.logger,
		Metrics:     p.metrics,
		Credentials: ec2.Credentials{AccessKeyID: p.cfg.AccessKey, SecretAccessKey: p.cfg.SecretKey},
		// Instance profiles get their role's STS credentials.
		Roles: newInstanceRoles(p),
	}
	if !p.cfg.Memory && p.cfg.DataDir != "" {
		o.WorkDir = filepath.Join(p.cfg.DataDir, "ec2")
	}
	if _, port, err := net.SplitHostPort(p.cfg.Addr); err == nil && port != "0" {
		o.Endpoint = "http://" + p.cfg.Addr
	}
	return o
}
