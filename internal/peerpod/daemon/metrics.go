package daemon

import (
	"context"
	"net/http"
	"time"

	"github.com/containerd/ttrpc"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"google.golang.org/grpc/status"

	"github.com/cocogen/cocogen/internal/peerpod/sandbox"
)

// Metrics are the daemon's Prometheus metrics, in a registry of their own
// (so tests can run several daemons in one process).
type Metrics struct {
	Registry *prometheus.Registry

	rpc       *prometheus.HistogramVec
	instances *prometheus.HistogramVec
	errors    *prometheus.CounterVec
}

// NewMetrics registers the metrics.
func NewMetrics() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		rpc: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "peerpodd_rpc_duration_seconds",
			Help: "Remote-hypervisor RPCs by method and status code.",
			// From a fast CreateVM (milliseconds) to a StartVM that waits
			// minutes for a cloud VM to boot.
			Buckets: []float64{.001, .005, .01, .05, .1, .5, 1, 5, 10, 30, 60, 120, 300},
		}, []string{"method", "code"}),
		instances: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "peerpodd_instance_operation_duration_seconds",
			Help:    "Cloud instance creates and deletes by result.",
			Buckets: []float64{.01, .1, .5, 1, 5, 10, 30, 60, 120, 300, 600},
		}, []string{"operation", "result"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "peerpodd_errors_total",
			Help: "Errors outside an RPC's own result (PeerPod bookkeeping, restore).",
		}, []string{"kind"}),
	}
	m.Registry.MustRegister(m.rpc, m.instances, m.errors)
	return m
}

// observe adds the gauge of sandboxes by phase, read from the daemon at
// each scrape.
func (m *Metrics) observe(d *Daemon) {
	desc := prometheus.NewDesc("peerpodd_sandboxes", "Sandboxes by phase.", []string{"phase"}, nil)
	m.Registry.MustRegister(collectorFunc{desc: desc, collect: func(ch chan<- prometheus.Metric) {
		counts := d.phaseCounts()
		for _, p := range []sandbox.Phase{sandbox.Created, sandbox.Starting, sandbox.Running, sandbox.Stopping, sandbox.Stopped} {
			ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, float64(counts[p]), string(p))
		}
	}})
}

type collectorFunc struct {
	desc    *prometheus.Desc
	collect func(chan<- prometheus.Metric)
}

func (c collectorFunc) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }
func (c collectorFunc) Collect(ch chan<- prometheus.Metric) { c.collect(ch) }

func (m *Metrics) intercept(ctx context.Context, unmarshal ttrpc.Unmarshaler, info *ttrpc.UnaryServerInfo, method ttrpc.Method) (any, error) {
	start := time.Now()
	resp, err := method(ctx, unmarshal)
	m.rpc.WithLabelValues(methodName(info.FullMethod), status.Code(err).String()).Observe(time.Since(start).Seconds())
	return resp, err
}

func methodName(full string) string {
	for i := len(full) - 1; i >= 0; i-- {
		if full[i] == '/' {
			return full[i+1:]
		}
	}
	return full
}

func (m *Metrics) instanceOp(op string, start time.Time, err error) {
	result := "ok"
	if err != nil {
		result = "error"
	}
	m.instances.WithLabelValues(op, result).Observe(time.Since(start).Seconds())
}

// Handler serves /metrics, /healthz (the daemon answers) and /startup
// (it restored its sandboxes and serves the protocol).
func (d *Daemon) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(d.metrics.Registry, promhttp.HandlerOpts{}))
	ready := func(w http.ResponseWriter, _ *http.Request) {
		select {
		case <-d.ready:
			_, _ = w.Write([]byte("ok\n"))
		default:
			http.Error(w, "restoring sandboxes", http.StatusServiceUnavailable)
		}
	}
	mux.HandleFunc("GET /startup", ready)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		if !d.serving.Load() {
			http.Error(w, "not serving the remote-hypervisor protocol", http.StatusServiceUnavailable)
			return
		}
		ready(w, r)
	})
	return mux
}
