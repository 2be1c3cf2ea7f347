/// A change to a watched node, as delivered to a watch.
public struct WatchedEvent: Hashable, Sendable, CustomStringConvertible {
    /// What happened.
    public var type: EventType
    /// The node's path, relative to the client's chroot.
    public var path: String
    /// The zxid of the transaction that fired the event (ZooKeeper 3.9+), or -1.
    public var zxid: Int64

    public init(type: EventType, path: String, zxid: Int64) {
        self.type = type
        self.path = path
        self.zxid = zxid
    }

    public var description: String { "\(type.name) \(path)" }
}

/// The events of one watch registration, in server order, each exactly once.
///
/// A one-shot watch (from `getDataAndWatch`, `existsAndWatch`, `getChildrenAndWatch`) yields one
/// event and finishes. A persistent watch (`addWatch`) yields until it is removed or the session
/// ends. When the session expires or authentication fails the sequence throws the
/// ``ZooKeeperError``; when the client is closed it simply finishes. Watches survive reconnects:
/// the client re-registers them, so no change is missed. Stopping iteration (for example by
/// cancelling the task) removes the registration locally.
public struct ZooKeeperWatch: AsyncSequence, Sendable {
    public typealias Element = WatchedEvent
    public typealias AsyncIterator = AsyncThrowingStream<WatchedEvent, any Error>.AsyncIterator

    /// The registration's identity.
    public let id: WatchID
    /// The kind of registration.
    public let kind: WatchKind
    /// The watched path, relative to the chroot.
    public let path: String
    let stream: AsyncThrowingStream<WatchedEvent, any Error>

    public func makeAsyncIterator() -> AsyncIterator { stream.makeAsyncIterator() }
}
