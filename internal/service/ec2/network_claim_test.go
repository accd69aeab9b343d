package ec2

import (
	"fmt"
	"net"
	"testing"
)

// A server that draws an instance network another server on the machine
// holds draws again, so the two never hand out the same addresses.
func TestNetworkClaimAvoidsATakenNetwork(t *testing.T) {
	taken, err := net.Listen("tcp", fmt.Sprintf("127.77.255.254:%d", networkClaimPort))
	if err != nil {
		t.Skipf("cannot hold the test network: %v", err)
	}
	defer taken.Close()
	s := &Service{network: 77}
	s.claimNetwork(true)
	if s.network == 77 || s.networkClaim == nil {
		t.Fatalf("network %d, claim %v: want another network, held", s.network, s.networkClaim)
	}
	s.networkClaim.Close()

	kept := &Service{network: 77}
	kept.claimNetwork(false)
	if kept.network != 77 || kept.networkClaim != nil {
		t.Fatalf("a remembered network changed to %d", kept.network)
	}
}
