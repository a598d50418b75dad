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
        promptTokens = registry.makeCounter(name: "t5_prompt_tokens_total", help: "Prompt tokens of accepted requests")
        generatedTokens = registry.makeCounter(name: "t5_generated_tokens_total", help: "Tokens generated")
        queueDepth = registry.makeGauge(name: "t5_queue_depth", help: "Requests waiting for decoder rows")
        runningRequests = registry.makeGauge(name: "t5_running_requests", help: "Requests in the running batch")
        batchRows = registry.makeGauge(name: "t5_batch_rows", help: "Decoder rows in the running batch")
        timeToFirstToken = registry.makeDurationHistogram(
            name: "t5_time_to_first_token_seconds",
            buckets: [.milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
                      .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10), .seconds(30)],
            help: "From a request's arrival to its first generated token")
        stepTime = registry.makeDurationHistogram(
            name: "t5_time_per_output_token_seconds",
            buckets: [.milliseconds(1), .milliseconds(2.5), .milliseconds(5), .milliseconds(10), .milliseconds(25),
                      .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1)],
            help: "One decoder step of the shared batch (each running row gains a token)")
    }

    /// Counts a finished HTTP request under its route and status.
    func request(path: String, status: Int) {
        registry.makeCounter(name: "t5_requests_total", labels: [("path", path), ("status", "\(status)")],
                             help: "HTTP requests by route and status").increment()
    }

    var text: String { registry.emitToString() }
}
