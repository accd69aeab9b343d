package ec2

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/overcast-dev/overcast/internal/runtime/proc"
)

// transition moves in to state to, persists it and runs then (if any)
// once it is stored; rg.mu is held. It returns the state changes to
// announce once rg.mu is released.
func (s *Service) transition(rg *region, in *instance, to State, reason, code, msg string, then func() []StateChange) ([]StateChange, error) {
	prev := in.State
	next := *in
	next.State = to
	if reason != "" || to == StatePending || to == StateRunning {
		next.TransitionReason = reason
	}
	next.ReasonCode, next.ReasonMessage = code, msg
	if to == StateTerminated {
		next.TerminatedAt = s.clk.Now()
	}
	if err := s.save(rg, (&change{}).put(kindInstance, in.ID, &next)); err != nil {
		return nil, err
	}
	in.State, in.TransitionReason, in.ReasonCode, in.ReasonMessage, in.TerminatedAt = next.State, next.TransitionReason, next.ReasonCode, next.ReasonMessage, next.TerminatedAt
	var events []StateChange
	if prev != to {
		events = append(events, StateChange{Account: rg.account, Region: rg.name, Instance: in.snapshot(rg), Previous: prev})
	}
	if to == StateTerminated {
		os.RemoveAll(filepath.Join(s.workDir, in.ID))
	}
	if then != nil {
		events = append(events, then()...)
	}
	return events, nil
}

// boot starts a boot of in: its directory, metadata listener and process,
// and the goroutine that watches it. A boot that cannot start terminates
// the instance, as a launch failure does on AWS. rg.mu is held.
func (s *Service) boot(rg *region, in *instance) []StateChange {
	fail := func(err error) []StateChange {
		if errors.Is(err, proc.ErrClosed) {
			return nil // the server is closing
		}
		s.log.Error("instance failed to boot", "instance", in.ID, "err", err)
		ev, _ := s.transition(rg, in, StateTerminated, "Server.InternalError", "Server.InternalError", "Server.InternalError: "+err.Error(), nil)
		return ev
	}
	if !s.running() {
		return nil
	}
	dir := filepath.Join(s.workDir, in.ID)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fail(err)
	}
	img, err := rg.image(in.ImageID)
	if err != nil {
		img = &imageRec{} // deregistered since: boot as the host image
	}
	argv, workDir, err := prepareUserData(dir, in.UserData, img)
	if err != nil {
		return fail(err)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(in.PrivateIP, "0"))
	if err != nil {
		return fail(fmt.Errorf("metadata listener: %w", err))
	}
	v := &vm{ln: ln, imds: "http://" + ln.Addr().String() + "/", bootAt: s.clk.Now()}
	v.sampled = v.bootAt
	spec := proc.Spec{
		Name:        in.ID,
		Path:        "/bin/sh",
		Args:        append([]string{"-c", initScript, "overcast-init"}, argv...),
		Env:         s.instanceEnv(rg, in, v, dir),
		Dir:         workDir,
		StopTimeout: s.opts.StopTimeout,
		OutputLimit: consoleLimit,
	}
	p, err := s.sup.Start(spec)
	if err != nil {
		ln.Close()
		return fail(err)
	}
	v.p = p
	in.vm = v
	s.mu.Lock()
	s.byIP[in.PrivateIP] = &vmRef{rg: rg, id: in.ID}
	s.mu.Unlock()
	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		s.imds.Serve(ln)
	}()
	go s.watch(rg, in.ID, v)
	if s.opts.BootDelay <= 0 && in.State == StatePending {
		ev, err := s.transition(rg, in, StateRunning, "", "", "", nil)
		if err != nil {
			s.log.Error("instance state", "instance", in.ID, "err", err)
		}
		return ev
	}
	return nil
}

// initScript is the instance's init program: it runs the user data
// command given as its arguments, reports how it ended on the console and
// keeps the instance up.
const initScript = `if [ "$#" -gt 0 ]; then "$@"; echo "[overcast] user data exited with status $?"; fi
while :; do sleep 86400; done`

func (s *Service) instanceEnv(rg *region, in *instance, v *vm, dir string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	env = append(env,
		"OVERCAST_INSTANCE_ID="+in.ID,
		"OVERCAST_INSTANCE_IP="+in.PrivateIP,
		"INSTANCE_IP="+in.PrivateIP,
		"OVERCAST_INSTANCE_ROOT="+dir,
		"AWS_REGION="+rg.name,
		"AWS_DEFAULT_REGION="+rg.name,
		"AWS_EC2_METADATA_SERVICE_ENDPOINT="+v.imds,
		"AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE=IPv4",
	)
	if u := s.endpointURL(); u != "" {
		env = append(env, "AWS_ENDPOINT_URL="+u)
	}
	if in.ProfileARN == "" {
		env = append(env, "AWS_ACCESS_KEY_ID="+s.opts.Credentials.AccessKeyID, "AWS_SECRET_ACCESS_KEY="+s.opts.Credentials.SecretAccessKey)
		if s.opts.Credentials.SessionToken != "" {
			env = append(env, "AWS_SESSION_TOKEN="+s.opts.Credentials.SessionToken)
		}
	}
	return env
}

// watch follows one boot of an instance: it marks the instance running
// after the boot delay and, when the process has ended, finishes the
// transition that ended it, reboots it, or treats it as an
// instance-initiated shutdown.
func (s *Service) watch(rg *region, id string, v *vm) {
	defer s.wg.Done()
	if s.opts.BootDelay > 0 {
		t := s.clk.NewTimer(s.opts.BootDelay)
		select {
		case <-t.C():
			rg.mu.Lock()
			var ev []StateChange
			if in := rg.instances[id]; in != nil && in.vm == v && in.State == StatePending {
				ev, _ = s.transition(rg, in, StateRunning, "", "", "", nil)
			}
			rg.mu.Unlock()
			s.notify(ev)
		case <-v.p.Done():
			t.Stop()
		}
	}
	<-v.p.Done()
	v.ln.Close()
	s.mu.Lock()
	if ref := s.byIP[v.ln.Addr().(*net.TCPAddr).IP.String()]; ref != nil && ref.id == id {
		delete(s.byIP, v.ln.Addr().(*net.TCPAddr).IP.String())
	}
	stopping := !s.started
	s.mu.Unlock()
	rg.mu.Lock()
	in := rg.instances[id]
	if in == nil || in.vm != v {
		rg.mu.Unlock()
		return
	}
	in.vm = nil
	in.console = v.p.Output().Tail(consoleLimit)
	var ev []StateChange
	var err error
	switch {
	case stopping:
		// The server is closing: leave the stored state, so a restart
		// boots the instance again.
	case in.State == StateStopping:
		ev, err = s.transition(rg, in, StateStopped, "", in.ReasonCode, in.ReasonMessage, nil)
	case in.State == StateShuttingDown:
		ev, err = s.transition(rg, in, StateTerminated, "", in.ReasonCode, in.ReasonMessage, nil)
	case v.reboot && (in.State == StateRunning || in.State == StatePending):
		ev = s.boot(rg, in)
	case in.State == StateRunning || in.State == StatePending:
		st := v.p.Status()
		s.log.Info("instance process ended", "instance", id, "code", st.ExitCode, "err", st.Err)
		to := StateStopped
		if in.ShutdownBehavior == "terminate" {
			to = StateTerminated
		}
		reason := fmt.Sprintf("User initiated (%s)", s.clk.Now().UTC().Format("2006-01-02 15:04:05 MST"))
		ev, err = s.transition(rg, in, to, reason, "Client.InstanceInitiatedShutdown", "Client.InstanceInitiatedShutdown: Instance initiated shutdown", nil)
	}
	rg.mu.Unlock()
	if err != nil {
		s.log.Error("instance state", "instance", id, "err", err)
	}
	s.notify(ev)
}

// recover brings stored instances back after a restart: live ones boot
// again, transitions in flight complete.
func (s *Service) recover(rg *region) {
	rg.mu.Lock()
	var ev []StateChange
	ids := make([]string, 0, len(rg.instances))
	for id := range rg.instances {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		in := rg.instances[id]
		var e []StateChange
		switch in.State {
		case StatePending, StateRunning:
			e = s.boot(rg, in)
		case StateStopping:
			e, _ = s.transition(rg, in, StateStopped, in.TransitionReason, in.ReasonCode, in.ReasonMessage, nil)
		case StateShuttingDown:
			e, _ = s.transition(rg, in, StateTerminated, in.TransitionReason, in.ReasonCode, in.ReasonMessage, nil)
		}
		ev = append(ev, e...)
	}
	rg.mu.Unlock()
	s.notify(ev)
}
