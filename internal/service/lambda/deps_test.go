package lambda_test

// The test function in testdata/gofunc is built with aws-lambda-go; this
// import keeps it a requirement of the module.
import _ "github.com/aws/aws-lambda-go/lambdacontext"
