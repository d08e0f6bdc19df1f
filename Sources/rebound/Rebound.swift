import ArgumentParser

/// `rebound`: keeps stateful pods on node-local volumes alive when their node fails.
@main
struct Rebound: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rebound",
        abstract: "Keeps stateful pods on node-local volumes alive when their node fails.",
        discussion: """
            One binary, three parts: an admission webhook that opts pods in and routes them to the \
            scheduler extender, a scheduler extender that places pods on healthy nodes with free \
            volume-group capacity, and a failover controller that moves opted-in pods off failed \
            nodes and rebuilds their local volumes.

            Start with `rebound demo` to watch a node failure play out on a simulated cluster.
            """,
        subcommands: [DemoCommand.self, ServeCommand.self, SimCommand.self, CheckCommand.self, StatusCommand.self, VolumesCommand.self, CertsCommand.self, ConfigCommand.self]
    )
}
