import Foundation
import Testing
@testable import ZooKeeperServerCore

/// Seeded random schedules of a 3- or 5-voter ensemble (some with an observer) over a lossy,
/// reordering, partitioning network and crashing disks; see ``EnsembleSimulation``. After every
/// step: at most one established leader per epoch, every delivered sequence a prefix of one
/// common history, every acknowledged write durable on a quorum, no protocol anomaly; after
/// healing, every member delivered the same sequence holding every acknowledged write.
///
/// `ZKSH_SIM_SEED=<n>` replays one schedule with a trace (its last `ZKSH_SIM_TRACE_LINES`, default 300); `ZKSH_SIM_SCHEDULES=<n>` changes how
/// many run (the default, 2000, stops early after a wall-clock budget of 25 s) and
/// `ZKSH_SIM_FIRST_SEED=<n>` where they start (default 1).
@Suite(.timeLimit(.minutes(2))) struct SimulationTests {
    static func parameters(for seed: UInt64) -> SimulationParameters {
        var parameters = SimulationParameters()
        switch seed % 3 {
        case 0: parameters.voters = 3
        case 1: parameters.voters = 5
        default:
            parameters.voters = 3
            parameters.observers = 1
        }
        return parameters
    }

    @Test func randomSchedulesKeepTheEnsembleConsistent() throws {
        let environment = ProcessInfo.processInfo.environment
        if let text = environment["ZKSH_SIM_SEED"], let seed = UInt64(text) {
            var simulation = EnsembleSimulation(seed: seed, parameters: Self.parameters(for: seed), tracing: true)
            do {
                try simulation.run()
                print("seed \(seed): ok, \(simulation.acknowledged.count) writes acknowledged, history \(simulation.history.count)")
            } catch {
                let lines = environment["ZKSH_SIM_TRACE_LINES"].flatMap(Int.init) ?? 300
                print(simulation.trace.suffix(lines).joined(separator: "\n"))
                Issue.record("seed \(seed): \(error)")
            }
            return
        }
        let count = environment["ZKSH_SIM_SCHEDULES"].flatMap(Int.init) ?? 2_000
        let budget: TimeInterval = environment["ZKSH_SIM_SCHEDULES"] == nil ? 25 : .infinity
        let started = Date()
        var ran = 0
        var failures = 0
        var acknowledged = 0
        var elections = 0
        var snapshots = 0
        var truncs = 0
        var crashes = 0
        let first = environment["ZKSH_SIM_FIRST_SEED"].flatMap(UInt64.init) ?? 1
        for seed in first..<(first + UInt64(count)) {
            if Date().timeIntervalSince(started) > budget { break }
            var simulation = EnsembleSimulation(seed: seed, parameters: Self.parameters(for: seed))
            do {
                try simulation.run()
            } catch {
                failures += 1
                if failures <= 3 {
                    var traced = EnsembleSimulation(seed: seed, parameters: Self.parameters(for: seed), tracing: true)
                    _ = try? traced.run()
                    print(traced.trace.suffix(120).joined(separator: "\n"))
                    let message: String =
                        "seed \(seed) (\(simulation.parameters.voters) voters, \(simulation.parameters.observers) observers): \(error)\n"
                        + "replay: ZKSH_SIM_SEED=\(seed) swift test --filter SimulationTests"
                    Issue.record("\(message)")
                }
            }
            ran += 1
            acknowledged += simulation.acknowledged.count
            elections += simulation.statistics.elections
            snapshots += simulation.statistics.snapshotsSent
            truncs += simulation.statistics.truncs
            crashes += simulation.statistics.crashes
        }
        let seconds = Date().timeIntervalSince(started)
        print(
            "simulation: \(ran) schedules in \(String(format: "%.1f", seconds)) s, \(failures) failed; "
                + "\(acknowledged) writes acknowledged, \(elections) leaders established, \(crashes) crashes, "
                + "\(snapshots) SNAP, \(truncs) TRUNC")
        #expect(failures == 0)
        // The schedules must actually exercise the protocol.
        #expect(ran >= 100, "only \(ran) schedules ran")
        #expect(acknowledged > ran * 5, "few writes were acknowledged (\(acknowledged))")
        #expect(snapshots > 0 && truncs > 0, "SNAP (\(snapshots)) and TRUNC (\(truncs)) never happened")
    }

    /// A quiet network: a 5-member ensemble elects, commits 50 writes and converges.
    @Test func quietEnsembleCommitsEverything() throws {
        var parameters = SimulationParameters()
        parameters.voters = 5
        parameters.dropRate = 0
        parameters.duplicateRate = 0
        parameters.reorderRate = 0
        parameters.crashRate = 0
        parameters.partitionRate = 0
        parameters.writeRate = 0
        var simulation = EnsembleSimulation(seed: 99, parameters: parameters)
        for id in simulation.ids { try simulation.restart(id) }
        for _ in 0..<100 { try simulation.step() }
        for _ in 0..<50 {
            try simulation.clientWrite()
            try simulation.step()
        }
        try simulation.quiesce()
        #expect(simulation.acknowledged.count == 50)
        #expect(simulation.leaderOfEpoch.count == 1)
        // The highest id wins a tie among equal logs.
        #expect(simulation.leaderOfEpoch.values.first == 5)
    }
}
