import NIOCore
import NIOTestUtils
import Testing

@testable import ZooKeeperProtocol

@Suite("Framing")
struct FramingTests {
    static func frame(_ payload: [UInt8]) -> ByteBuffer { Wire(payload).framed().buffer }

    @Test func verifierDripFeedsAndBatchesFrames() throws {
        let payloads: [[UInt8]] = [
            [],
            [0x42],
            Wire(hex: Self.getDataPayloadHex).bytes,
            Array(0..<255).map { UInt8($0) },
            [UInt8](repeating: 0xAB, count: 4096),
            Wire().int(-1).bytes,  // a payload that looks like a negative length
        ]
        let pairs = payloads.map { (Self.frame($0), [ByteBuffer(bytes: $0)]) }
        try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: pairs) { ZooKeeperFrameDecoder() }
    }

    @Test func verifierWithSeveralFramesPerInput() throws {
        var two = Self.frame([1, 2, 3])
        var second = Self.frame([4])
        two.writeBuffer(&second)
        var zeroes = Self.frame([])
        var more = Self.frame([])
        zeroes.writeBuffer(&more)
        let pairs: [(ByteBuffer, [ByteBuffer])] = [
            (two, [ByteBuffer(bytes: [1, 2, 3]), ByteBuffer(bytes: [4])]),
            (zeroes, [ByteBuffer(), ByteBuffer()]),
        ]
        try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: pairs) { ZooKeeperFrameDecoder(maximumFrameLength: 16) }
    }

    static let getDataPayloadHex = "00 00 00 05 00 00 00 04 00 00 00 04 2F 66 6F 6F 01"

    @Test func frameExactlyAtTheMaximumPasses() throws {
        var decoder = ZooKeeperFrameDecoder(maximumFrameLength: 16)
        var buffer = Self.frame([UInt8](repeating: 7, count: 16))
        let frame = try #require(try decoder.nextFrame(from: &buffer))
        #expect(frame.readableArray == [UInt8](repeating: 7, count: 16))
        #expect(buffer.readableBytes == 0)
    }

    @Test func oneByteOverTheMaximumThrowsAfterTheHeader() {
        var decoder = ZooKeeperFrameDecoder(maximumFrameLength: 16)
        // Only the header is present: the decoder must refuse at once, not wait for 17 bytes.
        var buffer = Wire().int(17).buffer
        #expect(throws: ZooKeeperFrameError.frameTooLarge(length: 17, maximum: 16)) { try decoder.nextFrame(from: &buffer) }
        #expect(buffer.readerIndex == 4)
        #expect(buffer.readableBytes == 0)

        var withBody = Self.frame([UInt8](repeating: 0, count: 17))
        var fresh = ZooKeeperFrameDecoder(maximumFrameLength: 16)
        #expect(throws: ZooKeeperFrameError.frameTooLarge(length: 17, maximum: 16)) { try fresh.nextFrame(from: &withBody) }
        #expect(withBody.readerIndex == 4, "only the 4-byte header may be read")
    }

    @Test func defaultMaximumIsJuteMaxBufferPlusHeaderRoom() throws {
        #expect(ZooKeeperFrameDecoder.defaultMaximumFrameLength == 0xfffff + 1024)
        #expect(ZooKeeperFrameDecoder().maximumFrameLength == 0xfffff + 1024)

        let maximum = ZooKeeperFrameDecoder.defaultMaximumFrameLength
        var decoder = ZooKeeperFrameDecoder()
        var atMaximum = Self.frame([UInt8](repeating: 1, count: maximum))
        let frame = try #require(try decoder.nextFrame(from: &atMaximum))
        #expect(frame.readableBytes == maximum)

        var overHeader = Wire().int(Int32(maximum + 1)).buffer
        #expect(throws: ZooKeeperFrameError.frameTooLarge(length: maximum + 1, maximum: maximum)) {
            try decoder.nextFrame(from: &overHeader)
        }
        var huge = Wire().int(.max).buffer
        var other = ZooKeeperFrameDecoder()
        #expect(throws: ZooKeeperFrameError.frameTooLarge(length: Int(Int32.max), maximum: maximum)) { try other.nextFrame(from: &huge) }
    }

    @Test("negative lengths throw", arguments: [-1, -2, -4, Int32.min] as [Int32])
    func negativeLength(_ length: Int32) {
        var decoder = ZooKeeperFrameDecoder()
        var buffer = Wire().int(length).raw([1, 2, 3, 4]).buffer
        #expect(throws: ZooKeeperFrameError.negativeLength(Int(length))) { try decoder.nextFrame(from: &buffer) }
    }

    @Test func fourLetterWordsAreTooLarge() {
        // §12: every four-letter word, read as a length, exceeds jute.maxbuffer.
        for word in ["ruok", "srvr", "stat", "mntr", "isro"] {
            var decoder = ZooKeeperFrameDecoder()
            var buffer = ByteBuffer(string: word)
            #expect(throws: ZooKeeperFrameError.self) { try decoder.nextFrame(from: &buffer) }
        }
    }

    @Test func zeroLengthFrame() throws {
        var decoder = ZooKeeperFrameDecoder()
        var buffer = Wire().int(0).int(1).raw([9]).buffer
        let empty = try #require(try decoder.nextFrame(from: &buffer))
        #expect(empty.readableBytes == 0)
        let next = try #require(try decoder.nextFrame(from: &buffer))
        #expect(next.readableArray == [9])
        #expect(try decoder.nextFrame(from: &buffer) == nil)
    }

    @Test func severalFramesInOneBuffer() throws {
        var decoder = ZooKeeperFrameDecoder()
        var buffer = ByteBuffer()
        let payloads: [[UInt8]] = [[1], [], [2, 3], Array(repeating: 4, count: 100), [5, 6, 7]]
        for payload in payloads {
            buffer.writeZooKeeperFrame { $0.writeBytes(payload) }
        }
        var decoded: [[UInt8]] = []
        while let frame = try decoder.nextFrame(from: &buffer) {
            decoded.append(frame.readableArray)
        }
        #expect(decoded == payloads)
        #expect(buffer.readableBytes == 0)
    }

    @Test func partialHeaderAndPartialBody() throws {
        var decoder = ZooKeeperFrameDecoder()
        let full = Self.frame([10, 20, 30]).readableArray
        var buffer = ByteBuffer(bytes: full[0..<3])
        #expect(try decoder.nextFrame(from: &buffer) == nil)
        #expect(buffer.readerIndex == 0, "an incomplete header must not be consumed")

        buffer.writeBytes(full[3..<5])
        #expect(try decoder.nextFrame(from: &buffer) == nil)
        buffer.writeBytes(full[5...])
        let frame = try #require(try decoder.nextFrame(from: &buffer))
        #expect(frame.readableArray == [10, 20, 30])
        #expect(try decoder.nextFrame(from: &buffer) == nil)
    }

    @Test func byteByByte() throws {
        var decoder = ZooKeeperFrameDecoder()
        var stream = ByteBuffer()
        stream.writeRequestFrame(xid: 1, request: .getData(PathWatchRequest(path: "/foo", watch: true)))
        stream.writeRequestFrame(xid: -2, request: .ping)
        var buffer = ByteBuffer()
        var frames: [[UInt8]] = []
        for byte in stream.readableBytesView {
            buffer.writeInteger(byte)
            while let frame = try decoder.nextFrame(from: &buffer) {
                frames.append(frame.readableArray)
            }
        }
        #expect(frames == [Wire().int(1).int(4).string("/foo").bool(true).bytes, Wire().int(-2).int(11).bytes])
    }

    @Test func writeZooKeeperFramePrefixesTheLength() {
        var buffer = ByteBuffer(bytes: [0xEE, 0xEE])  // bytes already in the buffer are left alone
        buffer.writeZooKeeperFrame { $0.writeBytes([1, 2, 3]) }
        buffer.writeZooKeeperFrame { _ in }
        buffer.writeZooKeeperFrame { $0.writeBytes([UInt8](repeating: 9, count: 300)) }
        #expect(buffer.readableArray == [0xEE, 0xEE] + Wire([1, 2, 3]).framed().bytes + Wire().int(0).bytes
            + Wire([UInt8](repeating: 9, count: 300)).framed().bytes)
    }

    @Test func writeRequestFrameAndWriteReplyFrame() throws {
        var request = ByteBuffer()
        request.writeRequestFrame(xid: 3, request: .delete(DeleteRequest(path: "/x", version: -1)))
        #expect(request.readableArray == Wire().int(3).int(2).string("/x").int(-1).framed().bytes)
        #expect(request.getInteger(at: 0, as: Int32.self) == Int32(request.readableBytes - 4))

        var noBody = ByteBuffer()
        noBody.writeRequestFrame(xid: 4, request: .closeSession)
        #expect(noBody.readableArray == Wire().int(4).int(-11).framed().bytes)

        var reply = ByteBuffer()
        reply.writeReplyFrame(header: ReplyHeader(xid: 3, zxid: 10, err: -101), response: nil)
        #expect(reply.readableArray == Wire().int(3).long(10).int(-101).framed().bytes)

        var withBody = ByteBuffer()
        withBody.writeReplyFrame(header: ReplyHeader(xid: 5, zxid: 11), response: .getAllChildrenNumber(3))
        #expect(withBody.readableArray == Wire().int(5).long(11).int(0).int(3).framed().bytes)

        var empty = ByteBuffer()
        empty.writeReplyFrame(header: ReplyHeader(xid: 6, zxid: 12), response: .empty)
        #expect(empty.readableArray == Wire().int(6).long(12).int(0).framed().bytes)
    }

    @Test func frameErrorDescriptions() {
        #expect(ZooKeeperFrameError.negativeLength(-5).description == "malformed frame: negative length -5")
        #expect(ZooKeeperFrameError.frameTooLarge(length: 20, maximum: 10).description
            == "frame of 20 bytes exceeds the maximum of 10 bytes (jute.maxbuffer)")
    }
}
