// Package metrics is the contract through which every service emits the
// CloudWatch metrics AWS emits for it (AWS/SQS, AWS/S3, AWS/EC2, ...). The
// CloudWatch service implements Publisher; services receive one from the
// server and must work with Discard when CloudWatch is not running.
package metrics

import "time"

// Dimension is a metric dimension.
type Dimension struct {
	Name, Value string
}

// Datum is one observation of a metric: either Value (with Count 0 meaning
// one sample) or, when Count > 1, a statistic set.
type Datum struct {
	Name       string
	Dimensions []Dimension
	// Unit is a CloudWatch unit name ("Count", "Seconds", "Bytes", ...).
	Unit      string
	Timestamp time.Time
	// Value is the sample (or the Sum of a statistic set).
	Value float64
	// Count > 1 makes the datum a statistic set with Min, Max and Value as Sum.
	Count    float64
	Min, Max float64
}

// Publisher records metric data.
type Publisher interface {
	// Publish stores data under namespace for account and region. It MUST be
	// safe for concurrent use and MUST NOT block for long: services call it on
	// their request paths.
	Publish(account, region, namespace string, data []Datum)
}

// Discard is a Publisher that drops everything.
type Discard struct{}

// Publish implements Publisher.
func (Discard) Publish(string, string, string, []Datum) {}

var _ Publisher = Discard{}
