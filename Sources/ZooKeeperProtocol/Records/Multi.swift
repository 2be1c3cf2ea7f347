import NIOCore

/// One operation inside a multi (14) or multiRead (22).
public enum MultiOperation: Hashable, Sendable {
    /// create (1), create2 (15) or createContainer (19), as `opCode` says.
    case create(CreateRequest, opCode: OpCode)
    case createTTL(CreateTTLRequest)
    case delete(DeleteRequest)
    case setData(SetDataRequest)
    case check(CheckVersionRequest)
    /// multiRead only; the watch flag is ignored by the server.
    case getData(PathWatchRequest)
    /// multiRead only; the watch flag is ignored by the server.
    case getChildren(PathWatchRequest)

    public var opCode: OpCode {
        switch self {
        case .create(_, let opCode): return opCode
        case .createTTL: return .createTTL
        case .delete: return .delete
        case .setData: return .setData
        case .check: return .check
        case .getData: return .getData
        case .getChildren: return .getChildren
        }
    }

    /// The path the operation names.
    public var path: String {
        switch self {
        case .create(let request, _): return request.path
        case .createTTL(let request): return request.path
        case .delete(let request): return request.path
        case .setData(let request): return request.path
        case .check(let request): return request.path
        case .getData(let request): return request.path
        case .getChildren(let request): return request.path
        }
    }

    /// Whether the operation reads (multiRead) rather than writes (multi).
    public var isRead: Bool {
        switch self {
        case .getData, .getChildren: return true
        case .create, .createTTL, .delete, .setData, .check: return false
        }
    }

    func encodeBody(into buffer: inout ByteBuffer) {
        switch self {
        case .create(let request, _): request.encode(into: &buffer)
        case .createTTL(let request): request.encode(into: &buffer)
        case .delete(let request): request.encode(into: &buffer)
        case .setData(let request): request.encode(into: &buffer)
        case .check(let request): request.encode(into: &buffer)
        case .getData(let request): request.encode(into: &buffer)
        case .getChildren(let request): request.encode(into: &buffer)
        }
    }

    static func decode(opCode: OpCode, from buffer: inout ByteBuffer) throws(JuteDecodingError) -> MultiOperation {
        switch opCode {
        case .create, .create2, .createContainer: return .create(try CreateRequest(from: &buffer), opCode: opCode)
        case .createTTL: return .createTTL(try CreateTTLRequest(from: &buffer))
        case .delete: return .delete(try DeleteRequest(from: &buffer))
        case .setData: return .setData(try SetDataRequest(from: &buffer))
        case .check: return .check(try CheckVersionRequest(from: &buffer))
        case .getData: return .getData(try PathWatchRequest(from: &buffer))
        case .getChildren: return .getChildren(try PathWatchRequest(from: &buffer))
        default: throw .invalidValue(field: "type", value: Int64(opCode.rawValue))
        }
    }
}

/// The body of multi and multiRead: each op behind a ``MultiHeader``, then a terminator header.
///
/// ```
/// [MultiHeader{type, done=false, err=-1} op-record]* MultiHeader{-1, done=true, -1}
/// ```
public struct MultiRequest: JuteRecord {
    public var operations: [MultiOperation]

    public init(operations: [MultiOperation]) { self.operations = operations }

    public init(from buffer: inout ByteBuffer) throws(JuteDecodingError) {
        var operations: [MultiOperation] = []
        while true {
            let header = try MultiHeader(from: &buffer)
            if header.done { break }
            operations.append(try MultiOperation.decode(opCode: header.type, from: &buffer))
        }
        self.operations = operations
    }

    public func encode(into buffer: inout ByteBuffer) {
        for operation in self.operations {
            MultiHeader(type: operation.opCode, done: false, err: -1).encode(into: &buffer)
            operation.encodeBody(into: &buffer)
        }
        MultiHeader.terminator.encode(into: &buffer)
    }
}

/// One result inside a multi or multiRead reply.
public enum MultiResult: Hashable, Sendable {
    case create(CreateResponse)
    /// For create2, createTTL and createContainer sub-ops.
    case create2(Create2Response)
    case delete
    case setData(Stat)
    case check
    case getData(GetDataResponse)
    case getChildren([String])
    /// The op failed (or, with err 0 / RUNTIMEINCONSISTENCY, was rolled back with a failing one).
    case error(Int32)

    public var opCode: OpCode {
        switch self {
        case .create: return .create
        case .create2: return .create2
        case .delete: return .delete
        case .setData: return .setData
        case .check: return .check
        case .getData: return .getData
        case .getChildren: return .getChildren
        case .error: return .error
        }
    }
}

/// The body of a multi or multiRead reply.
public struct MultiResponse: JuteRecord {
    public var results: [MultiResult]

    public init(results: [MultiResult]) { self.results = results }

    public init(from buffer: inout ByteBuffer) throws(JuteDecodingError) {
        var results: [MultiResult] = []
        while true {
            let header = try MultiHeader(from: &buffer)
            if header.done { break }
            switch header.type {
            case .create: results.append(.create(try CreateResponse(from: &buffer)))
            case .create2, .createTTL, .createContainer: results.append(.create2(try Create2Response(from: &buffer)))
            case .delete: results.append(.delete)
            case .setData: results.append(.setData(try Stat(from: &buffer)))
            case .check: results.append(.check)
            case .getData: results.append(.getData(try GetDataResponse(from: &buffer)))
            case .getChildren: results.append(.getChildren(try buffer.decodeJuteStringVector("children")))
            case .error: results.append(.error(try ErrorResponse(from: &buffer).err))
            default: throw .invalidValue(field: "type", value: Int64(header.type.rawValue))
            }
        }
        self.results = results
    }

    public func encode(into buffer: inout ByteBuffer) {
        for result in self.results {
            switch result {
            case .error(let err):
                MultiHeader(type: .error, done: false, err: err).encode(into: &buffer)
                ErrorResponse(err: err).encode(into: &buffer)
            case .create(let response):
                MultiHeader(type: .create, done: false, err: 0).encode(into: &buffer)
                response.encode(into: &buffer)
            case .create2(let response):
                MultiHeader(type: .create2, done: false, err: 0).encode(into: &buffer)
                response.encode(into: &buffer)
            case .delete, .check:
                MultiHeader(type: result.opCode, done: false, err: 0).encode(into: &buffer)
            case .setData(let stat):
                MultiHeader(type: .setData, done: false, err: 0).encode(into: &buffer)
                stat.encode(into: &buffer)
            case .getData(let response):
                MultiHeader(type: .getData, done: false, err: 0).encode(into: &buffer)
                response.encode(into: &buffer)
            case .getChildren(let children):
                MultiHeader(type: .getChildren, done: false, err: 0).encode(into: &buffer)
                buffer.writeJuteStringVector(children)
            }
        }
        MultiHeader.terminator.encode(into: &buffer)
    }
}
