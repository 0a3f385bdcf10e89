// Command yanzhen runs Yanzhen (雁阵): the WeChat bot, its web console and workers, and its tools.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintln(os.Stderr, "yanzhen:", err)
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "yanzhen:", err)
		os.Exit(1)
	}
}

// usageError is a mistake in the command line (exit status 2).
type usageError string

func (e usageError) Error() string { return string(e) }

// io carries the standard streams to a subcommand.
type stdio struct {
	in       io.Reader
	out, err io.Writer
}

const usage = `usage: yanzhen [command] [flags]

commands:
  serve [--demo] [--config FILE]   run the server (the default command)
  sim [--url URL] [--safe|--compat] [--user OPENID] [--fake URL]
                                   chat with a running server as a WeChat user
  import roster FILE               import members from CSV or XLSX; prints bind codes as CSV
  eval policy FILE.jsonl [--corpus DIR]
                                   run the policy Q&A over a question file: accuracy and latency
  migrate                          apply database migrations and exit
  broadcast notice --org PATH [--org PATH…] [--role ROLE…] --text TEXT [--link URL] [--at TIME] [--approval] [--mass]
                                   record a notice; a running server sends it (prints "broadcast ID")
  broadcast status ID              how a broadcast is going (queued= sent= failed= skipped= …)
  bench webhook [flags]            load-test a running webhook (see docs/PERFORMANCE.md)
  bench broadcast [--members N] [--rate N] [--kill]
                                   load-test broadcast delivery against a fake WeChat API
  bench county --setup | --url URL… --codes FILE [--duration D] [--journal FILE] | --verify --journal FILE
                                   the county morning peak: set up, drive mixed chat traffic, verify nothing was lost
  fakewechat [--addr HOST:PORT] [--app APPID:SECRET…] [--template ID…] [--keep-calls]
                                   run the fake WeChat API as its own process (for several servers)
  health [--url URL]               exit 0 if a running server's /readyz answers OK
  version                          print the version
`

// run dispatches the subcommand.
func run(ctx context.Context, args []string, in io.Reader, out, errOut io.Writer) error {
	std := stdio{in: in, out: out, err: errOut}
	cmd := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return cmdServe(ctx, std, args)
	case "migrate":
		return cmdMigrate(ctx, std, args)
	case "import":
		return cmdImport(ctx, std, args)
	case "eval":
		return cmdEval(ctx, std, args)
	case "sim":
		return cmdSim(ctx, std, args)
	case "bench":
		return cmdBench(ctx, std, args)
	case "broadcast":
		return cmdBroadcast(ctx, std, args)
	case "health":
		return cmdHealth(ctx, std, args)
	case "fakewechat":
		return cmdFakeWeChat(ctx, std, args)
	case "version":
		fmt.Fprintln(out, "yanzhen", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(out, usage)
		return nil
	default:
		fmt.Fprint(errOut, usage)
		return usageError(fmt.Sprintf("unknown command %q", cmd))
	}
}

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"
