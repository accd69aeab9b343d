package server

import (
	"context"
	"errors"
	"fmt"

	"github.com/overcast-dev/overcast/internal/protocol/awserr"
	"github.com/overcast-dev/overcast/internal/service/elb"
)

// elbFunctions is elb.FunctionInvoker over Lambda, read at call time:
// Lambda is built after Elastic Load Balancing.
type elbFunctions struct{ p *parts }

// InvokeFunction implements elb.FunctionInvoker. A throttled invocation
// wraps elb.ErrFunctionThrottled.
func (f elbFunctions) InvokeFunction(ctx context.Context, account, region, function string, payload []byte) ([]byte, error) {
	l := f.p.lambda
	if l == nil {
		return nil, errors.New("lambda is not running")
	}
	out, err := l.Invoke(ctx, account, region, function, payload, false)
	if err != nil {
		var ae *awserr.Error
		if errors.As(err, &ae) && ae.Code == "TooManyRequestsException" {
			return nil, fmt.Errorf("%w: %v", elb.ErrFunctionThrottled, err)
		}
		return nil, err
	}
	return out, nil
}
