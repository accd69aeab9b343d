package ec2

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/overcast-dev/overcast/internal/metrics"
	"github.com/overcast-dev/overcast/internal/service"
)

// loop publishes metrics and purges old terminated instances every
// MetricsInterval. It re-arms one timer per pass, so a fake clock steps it.
func (s *Service) loop() {
	defer s.wg.Done()
	t := s.clk.NewTimer(s.opts.MetricsInterval)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C():
		}
		s.tick()
		t.Reset(s.opts.MetricsInterval)
	}
}

// tick does one pass of the loop.
func (s *Service) tick() {
	s.mu.Lock()
	regions := make([]*region, 0, len(s.regions))
	for _, rg := range s.regions {
		regions = append(regions, rg)
	}
	s.mu.Unlock()
	now := s.clk.Now()
	for _, rg := range regions {
		data := s.sample(rg, now)
		if len(data) > 0 {
			s.pub.Publish(rg.account, rg.name, "AWS/EC2", data)
		}
		s.purge(rg, now)
	}
}

// sample measures each booted instance of rg since its last sample.
func (s *Service) sample(rg *region, now time.Time) []metrics.Datum {
	type probe struct {
		in  *instance
		v   *vm
		asg string
	}
	rg.mu.Lock()
	var probes []probe
	for _, in := range rg.instances {
		if in.vm != nil && in.State == StateRunning {
			asg, _ := tagValue(in.Tags, "aws:autoscaling:groupName")
			probes = append(probes, probe{in, in.vm, asg})
		}
	}
	rg.mu.Unlock()
	slices.SortFunc(probes, func(a, b probe) int { return strings.Compare(a.in.ID, b.in.ID) })
	ts := now.UTC().Truncate(time.Second)
	var data []metrics.Datum
	for _, p := range probes {
		st, err := p.v.p.Stats() // reads /proc: outside the lock
		failed := 0.0
		if err != nil {
			failed = 1
		}
		rg.mu.Lock()
		wall := now.Sub(p.v.sampled)
		cpu := st.CPU - p.v.cpu
		if err == nil {
			p.v.cpu, p.v.sampled = st.CPU, now
		}
		typ := p.in.InstanceType
		rg.mu.Unlock()
		dims := [][]metrics.Dimension{{{Name: "InstanceId", Value: p.in.ID}}}
		if p.asg != "" {
			dims = append(dims, []metrics.Dimension{{Name: "AutoScalingGroupName", Value: p.asg}})
		}
		for _, d := range dims {
			if err == nil && wall > 0 {
				data = append(data, metrics.Datum{Name: "CPUUtilization", Dimensions: d, Unit: "Percent", Timestamp: ts, Value: cpuPercent(cpu, wall, vcpus(typ))})
			}
			for _, name := range []string{"StatusCheckFailed", "StatusCheckFailed_Instance", "StatusCheckFailed_System"} {
				v := failed
				if name == "StatusCheckFailed_System" {
					v = 0
				}
				data = append(data, metrics.Datum{Name: name, Dimensions: d, Unit: "Count", Timestamp: ts, Value: v})
			}
		}
	}
	return data
}

// cpuPercent is CPU time over wall time across n vCPUs, in [0, 100].
func cpuPercent(cpu, wall time.Duration, n int) float64 {
	if wall <= 0 || n <= 0 {
		return 0
	}
	p := 100 * cpu.Seconds() / wall.Seconds() / float64(n)
	return min(max(p, 0), 100)
}

// purge forgets instances terminated longer ago than the retention.
func (s *Service) purge(rg *region, now time.Time) {
	rg.mu.Lock()
	defer rg.mu.Unlock()
	c := &change{}
	var ids, ips []string
	for id, in := range rg.instances {
		if in.State == StateTerminated && in.vm == nil && now.Sub(in.TerminatedAt) >= s.opts.TerminatedRetention {
			c.del(kindInstance, id)
			ids = append(ids, id)
			ips = append(ips, in.PrivateIP)
		}
	}
	if len(ids) == 0 {
		return
	}
	if err := s.save(rg, c); err != nil {
		s.log.Error("purge terminated instances", "err", err)
		return
	}
	for _, id := range ids {
		delete(rg.instances, id)
	}
	s.releaseIPs(ips)
}

// vcpus returns the vCPUs of an instance type, as AWS sizes them.
func vcpus(typ string) int {
	family, size, ok := strings.Cut(typ, ".")
	if !ok {
		return 1
	}
	switch size {
	case "nano", "micro", "small":
		if family == "t2" || family == "t1" || family == "m1" {
			return 1
		}
		return 2
	case "medium":
		if family == "m1" || family == "m3" {
			return 1
		}
		return 2
	case "large":
		return 2
	case "xlarge":
		return 4
	case "metal":
		return 96
	}
	if n, err := strconv.Atoi(strings.TrimSuffix(size, "xlarge")); err == nil && n > 0 && strings.HasSuffix(size, "xlarge") {
		return 4 * n
	}
	return 1
}

// memoryMiB estimates an instance type's memory.
func memoryMiB(typ string) int64 {
	family, _, _ := strings.Cut(typ, ".")
	perVCPU := int64(4096)
	switch {
	case strings.HasPrefix(family, "c"):
		perVCPU = 2048
	case strings.HasPrefix(family, "r"), strings.HasPrefix(family, "x"):
		perVCPU = 8192
	case strings.HasPrefix(family, "t"):
		switch {
		case strings.HasSuffix(typ, ".nano"):
			return 512
		case strings.HasSuffix(typ, ".micro"):
			return 1024
		case strings.HasSuffix(typ, ".small"):
			return 2048
		}
	}
	return perVCPU * int64(vcpus(typ))
}

var knownTypes = []string{
	"t2.nano", "t2.micro", "t2.small", "t2.medium", "t2.large", "t3.nano", "t3.micro", "t3.small",
	"t3.medium", "t3.large", "t3.xlarge", "t3.2xlarge", "t4g.micro", "t4g.small", "t4g.medium",
	"m5.large", "m5.xlarge", "m5.2xlarge", "m6i.large", "m6i.xlarge", "m7g.large", "c5.large",
	"c5.xlarge", "c6i.large", "r5.large", "r6i.large", "m1.small",
}

func (s *Service) describeInstanceTypes(r *service.Request) (map[string]any, error) {
	fs, err := parseFilters(r.Input)
	if err != nil {
		return nil, err
	}
	types := service.Strings(r.Input, "InstanceTypes")
	for _, t := range types {
		if !instanceTypeRE.MatchString(t) {
			return nil, invalidParam("The following supplied instance types do not exist: [%s]", t)
		}
	}
	if len(types) == 0 {
		types = knownTypes
	}
	var list []string
	for _, t := range types {
		f := func(name string) ([]string, bool) {
			switch name {
			case "instance-type":
				return []string{t}, true
			case "vcpu-info.default-vcpus":
				return []string{strconv.Itoa(vcpus(t))}, true
			case "processor-info.supported-architecture":
				return []string{archName()}, true
			case "current-generation":
				return []string{"true"}, true
			}
			return nil, false
		}
		if err := validateFilters(fs, f); err != nil {
			return nil, err
		}
		if matches(fs, f) {
			list = append(list, t)
		}
	}
	page, next, err := paginate(r.Input, list, func(t string) string { return t }, 5, 100)
	if err != nil {
		return nil, err
	}
	out := make([]any, len(page))
	for i, t := range page {
		n := int64(vcpus(t))
		out[i] = map[string]any{
			"InstanceType": t, "CurrentGeneration": true, "FreeTierEligible": t == "t2.micro" || t == "t3.micro",
			"SupportedUsageClasses": []any{"on-demand", "spot"}, "SupportedRootDeviceTypes": []any{"ebs"},
			"SupportedVirtualizationTypes": []any{"hvm"}, "BareMetal": false, "Hypervisor": "nitro",
			"ProcessorInfo":            map[string]any{"SupportedArchitectures": []any{archName()}},
			"VCpuInfo":                 map[string]any{"DefaultVCpus": n, "DefaultCores": max(1, n/2), "DefaultThreadsPerCore": min(2, n)},
			"MemoryInfo":               map[string]any{"SizeInMiB": memoryMiB(t)},
			"InstanceStorageSupported": false, "BurstablePerformanceSupported": strings.HasPrefix(t, "t"),
			"NetworkInfo": map[string]any{"NetworkPerformance": "Up to 5 Gigabit", "MaximumNetworkInterfaces": int64(3), "Ipv4AddressesPerInterface": int64(10), "Ipv6Supported": true, "EnaSupport": "required"},
		}
	}
	return withToken(map[string]any{"InstanceTypes": out}, next), nil
}
