import FuzzDriver
import Capacity
@_spi(Fuzzing) import Extender

/// kube-scheduler's ExtenderArgs and ExtenderBindingArgs, read and answered: nothing traps.
let keys = CompatibilityKeys()

runFuzzer { data, size in
    let body = UnsafeRawBufferPointer(input(data, size))
    _ = ExtenderWire.roundTrip(arguments: body, keys: keys)
    _ = ExtenderWire.readBinding(body)
    return 0
}
