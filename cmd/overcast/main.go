// Command overcast runs the Overcast AWS emulator: every service on one
// listener (127.0.0.1:4566 by default), state persisted under a data
// directory, until SIGINT or SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/overcast-dev/overcast/internal/server"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "overcast:", err)
		os.Exit(1)
	}
}

// env returns the environment variable's value, or def.
func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

func defaultDataDir() string {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "overcast")
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".local", "share", "overcast")
	}
	return ".overcast"
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("overcast", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("listen", env("OVERCAST_LISTEN", "127.0.0.1:4566"), "listen address (env OVERCAST_LISTEN)")
	dataDir := fs.String("data-dir", env("OVERCAST_DATA_DIR", defaultDataDir()), "directory for persistent state (env OVERCAST_DATA_DIR)")
	memory := fs.Bool("memory", env("OVERCAST_MEMORY", "") == "1" || env("OVERCAST_MEMORY", "") == "true", "keep all state in memory; write nothing to disk (env OVERCAST_MEMORY=1)")
	services := fs.String("services", env("OVERCAST_SERVICES", ""), "comma-separated services to run, with their dependencies (default all; env OVERCAST_SERVICES)")
	list := fs.Bool("list-services", false, "list the services and their dependencies, then exit")
	authMode := fs.String("auth", env("OVERCAST_AUTH", "off"), "signature checking: off (accept any well-formed signature) or verify (env OVERCAST_AUTH)")
	iamMode := fs.String("iam", env("OVERCAST_IAM", "off"), "IAM policy enforcement: off, soft (log decisions, allow) or strict (deny what IAM would deny) (env OVERCAST_IAM)")
	accessKey := fs.String("access-key", env("OVERCAST_ACCESS_KEY", "test"), "root access key accepted with --auth=verify (env OVERCAST_ACCESS_KEY)")
	secretKey := fs.String("secret-key", env("OVERCAST_SECRET_KEY", "test"), "root secret key (env OVERCAST_SECRET_KEY)")
	region := fs.String("region", env("OVERCAST_REGION", "us-east-1"), "default region for unsigned requests (env OVERCAST_REGION)")
	ddbThrottle := fs.Bool("dynamodb-throttle", env("OVERCAST_DYNAMODB_THROTTLE", "") == "1" || env("OVERCAST_DYNAMODB_THROTTLE", "") == "true", "throttle DynamoDB tables and indexes in PROVISIONED mode to their capacity units with ProvisionedThroughputExceededException, as DynamoDB does (env OVERCAST_DYNAMODB_THROTTLE=1)")
	s3Rate := fs.Bool("s3-rate-limit", env("OVERCAST_S3_RATE_LIMIT", "") == "1" || env("OVERCAST_S3_RATE_LIMIT", "") == "true", "answer S3 requests beyond 3,500 writes or 5,500 reads per second per prefix with 503 SlowDown, as S3 does (env OVERCAST_S3_RATE_LIMIT=1)")
	logLevel := fs.String("log-level", env("OVERCAST_LOG_LEVEL", "info"), "log level: debug, info, warn, error (env OVERCAST_LOG_LEVEL)")
	logFormat := fs.String("log-format", env("OVERCAST_LOG_FORMAT", "text"), "log format: text or json (env OVERCAST_LOG_FORMAT)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if *list {
		deps := server.ServiceDeps()
		for _, name := range server.ServiceNames() {
			if d := deps[name]; len(d) > 0 {
				fmt.Fprintf(stdout, "%s (needs %s)\n", name, strings.Join(d, ", "))
			} else {
				fmt.Fprintln(stdout, name)
			}
		}
		return nil
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	var handler slog.Handler
	switch *logFormat {
	case "text":
		handler = slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})
	case "json":
		handler = slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level})
	default:
		return fmt.Errorf("--log-format %q: want text or json", *logFormat)
	}
	logger := slog.New(handler)
	var names []string
	if *services != "" {
		names = strings.Split(*services, ",")
	}
	cfg := server.Config{
		Addr: *addr, DataDir: *dataDir, Memory: *memory, Services: names,
		Auth: *authMode, AccessKey: *accessKey, SecretKey: *secretKey, IAM: *iamMode, S3RateLimit: *s3Rate, DynamoDBThrottle: *ddbThrottle,
		Region: *region, Logger: logger,
	}
	srv, err := server.New(cfg)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := srv.Start(ctx); err != nil {
		return err
	}
	where := "data in " + *dataDir
	if *memory {
		where = "in memory (nothing is written to disk)"
	}
	fmt.Fprintf(stdout, "overcast %s listening on %s, %s\n", server.Version, srv.URL(), where)
	fmt.Fprintln(stdout, "Ready.")
	<-ctx.Done()
	stop()
	fmt.Fprintln(stdout, "overcast: shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Close(sctx)
}
