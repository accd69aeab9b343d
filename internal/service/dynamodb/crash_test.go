package dynamodb_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/overcast-dev/overcast/internal/awstest"
	"github.com/overcast-dev/overcast/internal/server"
)

// The kill -9 test re-runs this test binary as a child that serves DynamoDB
// from a data directory and writes items through the SDK, printing each key
// once PutItem has returned. The parent kills it with SIGKILL mid-stream,
// restarts a server on the same directory and reads every acknowledged item.

const crashDirEnv = "OVERCAST_DYNAMODB_CRASH_DIR"

// fsync makes the child's store sync every commit, as the default server does.
func fsync(c *server.Config) { c.NoSync = false }

func TestCrashHelper(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		return
	}
	srv := awstest.Start(t, awstest.WithServices("dynamodb"), awstest.WithDataDir(dir), fsync)
	// PutItem is idempotent here, so a transient client error may be retried.
	c := dynamodb.NewFromConfig(srv.Config, func(o *dynamodb.Options) { o.Retryer = retry.NewStandard() })
	_, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName: aws.String("crash"), BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
	})
	var inUse *types.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	round := os.Getenv(crashDirEnv + "_ROUND")
	var mu sync.Mutex // one line per write(2)
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 1_000_000; i++ { // bounded in case the parent is gone
				k := fmt.Sprintf("r%s-w%d-%06d", round, w, i)
				_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("crash"), Item: map[string]types.AttributeValue{
					"pk": sv(k), "n": nv(i), "pad": sv(strings.Repeat("x", i%500))}})
				if err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(3)
				}
				mu.Lock()
				fmt.Fprintln(os.Stdout, "ack", k, i)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	os.Exit(0)
}

func TestKill9KeepsAcknowledgedItems(t *testing.T) {
	if testing.Short() {
		t.Skip("re-runs the test binary")
	}
	dir := t.TempDir()
	for round := 0; round < 2; round++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashHelper$")
		cmd.Env = append(os.Environ(), crashDirEnv+"="+dir, crashDirEnv+"_ROUND="+strconv.Itoa(round))
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		acked := map[string]int{}
		sc := bufio.NewScanner(out)
		killed := false
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) != 3 || f[0] != "ack" {
				continue // test framework output
			}
			acked[f[1]], _ = strconv.Atoi(f[2])
			if len(acked) == 300 && !killed {
				if err := cmd.Process.Kill(); err != nil {
					t.Fatal(err)
				}
				killed = true
			}
		}
		err = cmd.Wait()
		if !killed {
			t.Fatalf("helper exited after %d acks: %v\n%s", len(acked), err, stderr.String())
		}

		t.Run("round"+strconv.Itoa(round), func(t *testing.T) { // the server stops before the next child starts
			srv := awstest.Start(t, awstest.WithServices("dynamodb"), awstest.WithDataDir(dir))
			c := dynamodb.NewFromConfig(srv.Config)
			keys := make([]string, 0, len(acked))
			for k := range acked {
				keys = append(keys, k)
			}
			found := 0
			for len(keys) > 0 {
				n := min(100, len(keys))
				req := make([]map[string]types.AttributeValue, n)
				for i, k := range keys[:n] {
					req[i] = map[string]types.AttributeValue{"pk": sv(k)}
				}
				keys = keys[n:]
				bg, err := c.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{"crash": {Keys: req, ConsistentRead: aws.Bool(true)}}})
				if err != nil {
					t.Fatal(err)
				}
				for _, it := range bg.Responses["crash"] {
					k := it["pk"].(*types.AttributeValueMemberS).Value
					if it["n"].(*types.AttributeValueMemberN).Value != strconv.Itoa(acked[k]) {
						t.Fatalf("item %s: %v", k, it["n"])
					}
					found++
				}
			}
			if found != len(acked) {
				t.Fatalf("%d of %d acknowledged items survived kill -9", found, len(acked))
			}
		})
	}
}
