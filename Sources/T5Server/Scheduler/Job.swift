// One request as the scheduler sees it: what to run, until when, and where its events go.
import Foundation
import Synchronization
import T5Engine
import T5ServerAPI

/// What the scheduler tells a waiting handler.
enum JobEvent: Sendable {
    /// Tokens chosen this step (greedy and sampling rows; beam search sends none until it finishes).
    case tokens([TokenEvent])
    /// Per prompt, its sequences.
    case finished([[GeneratedSequence]])
    /// Per input, its mean-pooled encoder state.
    case embedded([[Float]])
    case failed(APIError)
}

final class Job: Sendable {
    enum Work: Sendable {
        case generate(prompts: [[Int]], options: GenerationOptions, stops: [String])
        case embed(prompts: [[Int]])
    }

    let work: Work
    let submitted: ContinuousClock.Instant
    let deadline: ContinuousClock.Instant?
    let events: AsyncStream<JobEvent>.Continuation
    private let cancelledFlag = Atomic<Bool>(false)

    init(work: Work, timeout: Duration?, events: AsyncStream<JobEvent>.Continuation) {
        self.work = work
        let now = ContinuousClock.now
        submitted = now
        deadline = timeout.map { now + $0 }
        self.events = events
    }

    /// Rows the job holds in the shared batch while it runs.
    var rows: Int {
        switch work {
        case .generate(let prompts, let options, _): prompts.count * options.rowsPerPrompt
        case .embed: 0
        }
    }

    /// Prompt tokens to encode when the job is admitted.
    var promptTokens: Int {
        switch work {
        case .generate(let prompts, _, _), .embed(let prompts): prompts.reduce(0) { $0 + $1.count }
        }
    }

    /// Its client went away: the scheduler drops it at the next step.
    func cancel() { cancelledFlag.store(true, ordering: .releasing) }
    var isCancelled: Bool { cancelledFlag.load(ordering: .acquiring) }

    func send(_ event: JobEvent) { events.yield(event) }
    func end(_ event: JobEvent) {
        events.yield(event)
        events.finish()
    }
}
