// Prometheus metrics of one server, in its own registry (no process-wide metrics bootstrap): requests by status,
// prompt and generated tokens, queue depth, running batch, time to first token and time per decoder step.
import Prometheus

final class ServerMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    let promptTokens: Counter
    let generatedTokens: Counter
    let queueDepth: Gauge
    let runningRequests: Gauge
    let batchRows: Gauge
    let timeToFirstToken: DurationHistogram
    /// One decoder step of the shared batch: every running row gains one token, so this is the per-token latency.
    let stepTime: DurationHistogram

    init() {
        promptTokens = registry.makeCounter(descriptor: Self.name("prompt_tokens", "total", "Prompt tokens of accepted requests"))
        generatedTokens = registry.makeCounter(descriptor: Self.name("generated_tokens", "total", "Tokens generated"))
        queueDepth = registry.makeGauge(descriptor: Self.name("queue_depth", "", "Requests waiting for decoder rows"))
        runningRequests = registry.makeGauge(descriptor: Self.name("running_requests", "", "Requests in the running batch"))
        batchRows = registry.makeGauge(descriptor: Self.name("batch_rows", "", "Decoder rows in the running batch"))
        timeToFirstToken = registry.makeDurationHistogram(
            descriptor: Self.name("time_to_first_token", "seconds", "From a request's arrival to its first generated token"),
            buckets: [.milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
                      .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10), .seconds(30)])
        stepTime = registry.makeDurationHistogram(
            descriptor: Self.name("time_per_output_token", "seconds", "One decoder step of the shared batch (each running row gains a token)"),
            buckets: [.milliseconds(1), .milliseconds(2.5), .milliseconds(5), .milliseconds(10), .milliseconds(25),
                      .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1)])
    }

    /// `t5_<metric>_<unit>` (no unit suffix when `unit` is empty), with its help line.
    private static func name(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "t5", metricName: metric, unitName: unit, helpText: help)
    }

    /// Counts a finished HTTP request under its route and status.
    func request(path: String, status: Int) {
        registry.makeCounter(descriptor: Self.name("requests", "total", "HTTP requests by route and status"),
                             labels: [("path", path), ("status", "\(status)")]).increment()
    }

    var text: String { registry.emitToString() }
}
