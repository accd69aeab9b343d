package sqs

import (
	"context"
	"fmt"
	"testing"

	"github.com/overcast-dev/overcast/internal/service"
	"github.com/overcast-dev/overcast/internal/storage/memory"
)

// BenchmarkReceiveDelete measures receive+delete on the handlers at several
// queue depths: the cost must not grow with depth.
func BenchmarkReceiveDelete(b *testing.B) {
	for _, depth := range []int{1000, 100000} {
		b.Run(fmt.Sprint(depth), func(b *testing.B) {
			s := New(memory.New())
			req := func(in map[string]any) *service.Request {
				return &service.Request{Context: context.Background(), Account: "000000000000", Region: "us-east-1", Input: in}
			}
			if _, err := s.createQueue(req(map[string]any{"QueueName": "bench"})); err != nil {
				b.Fatal(err)
			}
			url := "/000000000000/bench"
			q := s.lookup("000000000000", "us-east-1", "bench")
			var msgs []*message
			for i := 0; i < depth; i++ {
				m, _ := prepare(q.conf(), sendEntry{body: "message body", hasBody: true}, "x")
				msgs = append(msgs, m)
				if len(msgs) == 1000 {
					s.commitSend(q, msgs)
					msgs = nil
				}
			}
			s.commitSend(q, msgs)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				out, err := s.receiveMessage(req(map[string]any{"QueueUrl": url}))
				if err != nil {
					b.Fatal(err)
				}
				m := out["Messages"].([]any)[0].(map[string]any)
				if _, err := s.deleteMessage(req(map[string]any{"QueueUrl": url, "ReceiptHandle": m["ReceiptHandle"]})); err != nil {
					b.Fatal(err)
				}
				if i%1000 == 999 { // keep the depth
					b.StopTimer()
					var refill []*message
					for j := 0; j < 1000; j++ {
						m, _ := prepare(q.conf(), sendEntry{body: "message body", hasBody: true}, "x")
						refill = append(refill, m)
					}
					s.commitSend(q, refill)
					b.StartTimer()
				}
			}
		})
	}
}
