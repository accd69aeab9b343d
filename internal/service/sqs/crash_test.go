package sqs_test

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/overcast-dev/overcast/internal/awstest"
)

// The crash test re-runs this test binary as a child that serves SQS from a
// data directory and drives it through the SDK, printing a line for every
// message the server acknowledged (sent or deleted). The parent kills it
// with SIGKILL mid-stream, starts a server on the same directory and checks
// the guarantees against those lines.

const crashDirEnv = "OVERCAST_SQS_CRASH_DIR"

func TestCrashHelper(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		return
	}
	srv := awstest.Start(t, awstest.WithServices("sqs"), awstest.WithDataDir(dir))
	c := newClient(srv)
	url := mustCreate(t, c, "durable", map[string]string{"VisibilityTimeout": "600"})
	var mu sync.Mutex // one line per write(2)
	say := func(kind, id string) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(os.Stdout, "%s %s\n", kind, id)
	}
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	// Some messages are sent, received and deleted before the stream.
	for i := 0; i < 20; i++ {
		if _, err := c.SendMessage(ctx, &awssqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String(fmt.Sprint("early ", i))}); err != nil {
			fail(err)
		}
	}
	for n := 0; n < 20; {
		out, err := c.ReceiveMessage(ctx, &awssqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: 10})
		if err != nil {
			fail(err)
		}
		for _, m := range out.Messages {
			if _, err := c.DeleteMessage(ctx, &awssqs.DeleteMessageInput{QueueUrl: &url, ReceiptHandle: m.ReceiptHandle}); err != nil {
				fail(err)
			}
			say("deleted", *m.MessageId)
			n++
		}
	}
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 100_000; i++ { // bounded in case the parent is gone
				out, err := c.SendMessage(ctx, &awssqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String(fmt.Sprint("w", w, " ", i))})
				if err != nil {
					fail(err)
				}
				say("sent", *out.MessageId)
			}
		}()
	}
	wg.Wait()
	os.Exit(0)
}

func TestKillDuringSendsLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test")
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashHelper$")
	cmd.Env = append(os.Environ(), crashDirEnv+"="+dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sent, deleted := map[string]bool{}, map[string]bool{}
	sc := bufio.NewScanner(out)
	killed := false
	for sc.Scan() {
		kind, id, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue // a line torn by the kill, or test framework output
		}
		switch kind {
		case "sent":
			sent[id] = true
		case "deleted":
			deleted[id] = true
		}
		if len(sent) == 300 && !killed {
			cmd.Process.Kill() // SIGKILL
			killed = true
		}
	}
	cmd.Wait()
	if !killed {
		t.Fatalf("child ended before the kill after %d sends: %s", len(sent), stderr.String())
	}
	if len(deleted) != 20 {
		t.Fatalf("child deleted %d", len(deleted))
	}
	srv := awstest.Start(t, awstest.WithServices("sqs"), awstest.WithDataDir(dir))
	c := newClient(srv)
	urlOut, err := c.GetQueueUrl(ctx, &awssqs.GetQueueUrlInput{QueueName: aws.String("durable")})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for {
		r, err := c.ReceiveMessage(ctx, &awssqs.ReceiveMessageInput{QueueUrl: urlOut.QueueUrl, MaxNumberOfMessages: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Messages) == 0 {
			break
		}
		var entries []types.DeleteMessageBatchRequestEntry
		for i, m := range r.Messages {
			if deleted[*m.MessageId] {
				t.Errorf("deleted message %s came back", *m.MessageId)
			}
			got[*m.MessageId] = true
			entries = append(entries, types.DeleteMessageBatchRequestEntry{Id: aws.String(fmt.Sprint(i)), ReceiptHandle: m.ReceiptHandle})
		}
		if _, err := c.DeleteMessageBatch(ctx, &awssqs.DeleteMessageBatchInput{QueueUrl: urlOut.QueueUrl, Entries: entries}); err != nil {
			t.Fatal(err)
		}
	}
	lost := 0
	for id := range sent {
		if !got[id] {
			lost++
		}
	}
	if lost > 0 {
		t.Errorf("%d of %d acknowledged messages lost", lost, len(sent))
	}
	t.Logf("%d acknowledged before the kill, %d in the queue after restart", len(sent), len(got))
}
