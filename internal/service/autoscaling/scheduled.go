package autoscaling

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/overcast-dev/overcast/internal/service"
)

// cron is a parsed five-field cron expression (minute hour day-of-month
// month day-of-week), as Recurrence takes it.
type cron struct {
	minute, hour, dom, month, dow uint64 // bit sets
	domStar, dowStar              bool
}

var monthNames = []string{"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"}
var dayNames = []string{"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}

// parseCron parses a Unix cron expression.
func parseCron(expr string) (*cron, error) {
	f := strings.Fields(expr)
	if len(f) != 5 {
		return nil, errors.New("a cron expression has five fields")
	}
	c := &cron{}
	var err error
	if c.minute, err = cronField(f[0], 0, 59, nil); err != nil {
		return nil, err
	}
	if c.hour, err = cronField(f[1], 0, 23, nil); err != nil {
		return nil, err
	}
	if c.dom, err = cronField(f[2], 1, 31, nil); err != nil {
		return nil, err
	}
	if c.month, err = cronField(f[3], 1, 12, monthNames); err != nil {
		return nil, err
	}
	if c.dow, err = cronField(f[4], 0, 7, dayNames); err != nil {
		return nil, err
	}
	if c.dow&(1<<7) != 0 {
		c.dow |= 1 // 7 is Sunday too
	}
	c.domStar = f[2] == "*" || f[2] == "?"
	c.dowStar = f[4] == "*" || f[4] == "?"
	return c, nil
}

func cronValue(s string, lo int, names []string) (int, error) {
	for i, n := range names {
		if strings.EqualFold(s, n) {
			return i + lo, nil
		}
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("invalid value %q", s)
	}
	return v, nil
}

func cronField(field string, lo, hi int, names []string) (uint64, error) {
	var set uint64
	for _, part := range strings.Split(field, ",") {
		step := 1
		if i := strings.IndexByte(part, '/'); i >= 0 {
			n, err := strconv.Atoi(part[i+1:])
			if err != nil || n < 1 || n > hi+1 {
				return 0, fmt.Errorf("invalid step in %q", part)
			}
			step = n
			part = part[:i]
		}
		a, b := lo, hi
		switch {
		case part == "*" || part == "?":
		case strings.Contains(part, "-"):
			i := strings.IndexByte(part, '-')
			var err error
			if a, err = cronValue(part[:i], lo, names); err != nil {
				return 0, err
			}
			if b, err = cronValue(part[i+1:], lo, names); err != nil {
				return 0, err
			}
		default:
			v, err := cronValue(part, lo, names)
			if err != nil {
				return 0, err
			}
			a, b = v, v
			if step > 1 {
				b = hi
			}
		}
		if a < lo || b > hi || a > b {
			return 0, fmt.Errorf("value out of range in %q", field)
		}
		for v := a; v <= b; v += step {
			set |= 1 << uint(v)
		}
	}
	return set, nil
}

func (c *cron) dayMatches(t time.Time) bool {
	d := c.dom&(1<<uint(t.Day())) != 0
	w := c.dow&(1<<uint(t.Weekday())) != 0
	switch {
	case c.domStar && c.dowStar:
		return true
	case c.domStar:
		return w
	case c.dowStar:
		return d
	}
	return d || w
}

// next returns the first time after t (in loc) that matches, or zero if
// none within five years.
func (c *cron) next(t time.Time, loc *time.Location) time.Time {
	t = t.In(loc).Truncate(time.Minute).Add(time.Minute)
	end := t.AddDate(5, 0, 0)
	for t.Before(end) {
		switch {
		case c.month&(1<<uint(t.Month())) == 0:
			t = time.Date(t.Year(), t.Month()+1, 1, 0, 0, 0, 0, loc)
		case !c.dayMatches(t):
			t = time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, loc)
		case c.hour&(1<<uint(t.Hour())) == 0:
			t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour()+1, 0, 0, 0, loc)
		case c.minute&(1<<uint(t.Minute())) == 0:
			t = t.Add(time.Minute)
		default:
			return t
		}
	}
	return time.Time{}
}

func scheduledARN(rg *region, gname, name string) string {
	return fmt.Sprintf("arn:%s:autoscaling:%s:%s:scheduledUpdateGroupAction:%s:autoScalingGroupName/%s:scheduledActionName/%s",
		service.Partition(rg.name), rg.name, rg.account, newUUID(), gname, name)
}

// nextRun computes when a scheduled action runs next after t.
func (a *scheduled) nextRun(t time.Time) time.Time {
	if a.Recurrence == "" {
		return a.StartTime
	}
	c, err := parseCron(a.Recurrence)
	if err != nil {
		return time.Time{}
	}
	loc := time.UTC
	if a.TimeZone != "" {
		if l, err := time.LoadLocation(a.TimeZone); err == nil {
			loc = l
		}
	}
	from := t
	if a.StartTime.After(from) {
		from = a.StartTime.Add(-time.Minute)
	}
	n := c.next(from, loc)
	if !a.EndTime.IsZero() && n.After(a.EndTime) {
		return time.Time{}
	}
	return n
}

func (s *Service) putScheduledAction(r *service.Request) (map[string]any, error) {
	in := r.Input
	gname := service.Str(in, "AutoScalingGroupName")
	if gname == "" {
		return nil, missing("AutoScalingGroupName")
	}
	name := service.Str(in, "ScheduledActionName")
	if name == "" {
		return nil, missing("ScheduledActionName")
	}
	a := &scheduled{Group: gname, Name: name, Recurrence: service.Str(in, "Recurrence"), TimeZone: service.Str(in, "TimeZone"),
		Min: intp(in, "MinSize"), Max: intp(in, "MaxSize"), Desired: intp(in, "DesiredCapacity")}
	if t, ok := in["StartTime"].(time.Time); ok {
		a.StartTime = t
	} else if t, ok := in["Time"].(time.Time); ok {
		a.StartTime = t
	}
	if t, ok := in["EndTime"].(time.Time); ok {
		a.EndTime = t
	}
	if a.Min == nil && a.Max == nil && a.Desired == nil {
		return nil, validation("At least one of MinSize, MaxSize, or DesiredCapacity must be specified.")
	}
	if a.Min != nil && a.Max != nil && *a.Max < *a.Min {
		return nil, validation("Max bound, %d, must be greater than or equal to min bound, %d", *a.Max, *a.Min)
	}
	now := s.clk.Now()
	if !a.StartTime.IsZero() && a.StartTime.Before(now) {
		return nil, validation("Given start time is in the past")
	}
	if !a.EndTime.IsZero() && !a.StartTime.IsZero() && !a.EndTime.After(a.StartTime) {
		return nil, validation("Given end time is before start time")
	}
	if a.Recurrence == "" && a.StartTime.IsZero() {
		return nil, validation("Either StartTime or Recurrence must be specified.")
	}
	if a.Recurrence != "" {
		if _, err := parseCron(a.Recurrence); err != nil {
			return nil, validation("Given recurrence string %s is not a valid cron expression: %s", a.Recurrence, err)
		}
	} else if !a.EndTime.IsZero() {
		return nil, validation("EndTime is only valid with Recurrence.")
	}
	if a.TimeZone != "" {
		if _, err := time.LoadLocation(a.TimeZone); err != nil {
			return nil, validation("Invalid time zone: %s", a.TimeZone)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rg := s.regionOf(r.Account, r.Region)
	g := rg.groups[gname]
	if g == nil || g.Deleting {
		return nil, groupNotFound(gname)
	}
	if old := rg.scheduled[subKey(gname, name)]; old != nil {
		a.ARN = old.ARN
	} else {
		n := 0
		for _, x := range rg.scheduled {
			if x.Group == gname {
				n++
			}
		}
		if n >= 125 {
			return nil, apiErr(codeLimitExceeded, "The number of scheduled actions for the Auto Scaling group %s exceeds the limit of 125.", gname)
		}
		a.ARN = scheduledARN(rg, gname, name)
	}
	a.Next = a.nextRun(now)
	if err := s.commit(putW(rg.account, rg.name, a, kindScheduled, gname, name)); err != nil {
		return nil, err
	}
	rg.scheduled[subKey(gname, name)] = a
	return map[string]any{}, nil
}

func scheduledOut(a *scheduled) map[string]any {
	o := map[string]any{"AutoScalingGroupName": a.Group, "ScheduledActionName": a.Name, "ScheduledActionARN": a.ARN}
	start := a.Next
	if start.IsZero() {
		start = a.StartTime
	}
	if !start.IsZero() {
		o["StartTime"], o["Time"] = start, start
	}
	if !a.EndTime.IsZero() {
		o["EndTime"] = a.EndTime
	}
	if a.Recurrence != "" {
		o["Recurrence"] = a.Recurrence
	}
	if a.TimeZone != "" {
		o["TimeZone"] = a.TimeZone
	}
	if a.Min != nil {
		o["MinSize"] = *a.Min
	}
	if a.Max != nil {
		o["MaxSize"] = *a.Max
	}
	if a.Desired != nil {
		o["DesiredCapacity"] = *a.Desired
	}
	return o
}

func (s *Service) describeScheduledActions(r *service.Request) (map[string]any, error) {
	in := r.Input
	if err := checkMaxRecords(in, 100); err != nil {
		return nil, err
	}
	gname := service.Str(in, "AutoScalingGroupName")
	names := service.Strings(in, "ScheduledActionNames")
	start, _ := in["StartTime"].(time.Time)
	end, _ := in["EndTime"].(time.Time)
	s.mu.Lock()
	defer s.mu.Unlock()
	rg := s.regionOf(r.Account, r.Region)
	if gname != "" && rg.groups[gname] == nil {
		return nil, groupNotFound(gname)
	}
	byKey := map[string]*scheduled{}
	var keys []string
	for k, a := range rg.scheduled {
		if gname != "" && a.Group != gname {
			continue
		}
		if len(names) > 0 && !slices.Contains(names, a.Name) {
			continue
		}
		if !start.IsZero() && a.Next.Before(start) {
			continue
		}
		if !end.IsZero() && a.Next.After(end) {
			continue
		}
		byKey[k] = a
		keys = append(keys, k)
	}
	pk, next, err := page(keys, service.Str(in, "NextToken"), intOr(in, "MaxRecords"), 50)
	if err != nil {
		return nil, err
	}
	out := make([]any, 0, len(pk))
	for _, k := range pk {
		out = append(out, scheduledOut(byKey[k]))
	}
	res := map[string]any{"ScheduledUpdateGroupActions": out}
	if next != "" {
		res["NextToken"] = next
	}
	return res, nil
}

func (s *Service) deleteScheduledAction(r *service.Request) (map[string]any, error) {
	in := r.Input
	gname := service.Str(in, "AutoScalingGroupName")
	name := service.Str(in, "ScheduledActionName")
	if gname == "" {
		return nil, missing("AutoScalingGroupName")
	}
	if name == "" {
		return nil, missing("ScheduledActionName")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rg := s.regionOf(r.Account, r.Region)
	if rg.groups[gname] == nil {
		return nil, groupNotFound(gname)
	}
	if rg.scheduled[subKey(gname, name)] == nil {
		return nil, validation("Scheduled Update Group Action name not found - Could not find scheduled action %s for group %s", name, gname)
	}
	if err := s.commit(delW(rg.account, rg.name, kindScheduled, gname, name)); err != nil {
		return nil, err
	}
	delete(rg.scheduled, subKey(gname, name))
	return map[string]any{}, nil
}

// runScheduled runs the scheduled actions that are due.
func (s *Service) runScheduled() {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clk.Now()
	for _, rg := range s.regions {
		for k, a := range rg.scheduled {
			if a.Next.IsZero() || now.Before(a.Next) {
				continue
			}
			var ws []write
			var ng *group
			if og := rg.groups[a.Group]; og != nil && !og.Deleting {
				g := cloneGroup(og)
				if a.Min != nil {
					g.Min = int(*a.Min)
				}
				if a.Max != nil {
					g.Max = int(*a.Max)
				}
				g.Max = max(g.Max, g.Min)
				desired := g.Desired
				if a.Desired != nil {
					desired = int(*a.Desired)
				}
				desired = max(g.Min, min(g.Max, desired))
				s.changeDesired(g, desired, fmt.Sprintf("a scheduled action update of AutoScalingGroup constraints to min: %d, max: %d, desired: %d", g.Min, g.Max, desired))
				ws = append(ws, groupW(g))
				ng = g
			}
			c := *a
			c.Next = time.Time{}
			if c.Recurrence != "" {
				c.Next = c.nextRun(now)
			}
			if c.Next.IsZero() {
				ws = append(ws, delW(rg.account, rg.name, kindScheduled, a.Group, a.Name))
			} else {
				ws = append(ws, putW(rg.account, rg.name, &c, kindScheduled, a.Group, a.Name))
			}
			if err := s.commit(ws...); err != nil {
				s.log.Error("autoscaling: scheduled action", "action", a.ARN, "err", err)
				continue
			}
			if ng != nil {
				rg.groups[a.Group] = ng
			}
			if c.Next.IsZero() {
				delete(rg.scheduled, k)
			} else {
				rg.scheduled[k] = &c
			}
		}
	}
}
