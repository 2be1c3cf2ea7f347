extension WatchRegistry {
    func contains(_ id: WatchID) -> Bool { self.kind(of: id) != nil }
}
