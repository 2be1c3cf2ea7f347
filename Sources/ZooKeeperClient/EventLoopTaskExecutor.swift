import NIOCore

/// Runs Swift tasks on a SwiftNIO event loop.
///
/// A task that mostly awaits one client's requests can run on that client's event loop
/// (``ZooKeeperClient/taskExecutor``): each reply then resumes it on the thread that read the
/// reply, and its next request is handed to the connection without waking another thread. With
/// many requests in flight this saves two thread switches per request. Work that blocks or runs
/// long must not run here: it would hold up every connection on the loop.
public final class EventLoopTaskExecutor: TaskExecutor, @unchecked Sendable {
    /// The loop the tasks run on.
    public let eventLoop: any EventLoop

    public init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = self.asUnownedTaskExecutor()
        eventLoop.execute { job.runSynchronously(on: executor) }
    }
}
