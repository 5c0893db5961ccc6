"""Frame validation against the schema generated from @heartline/protocol."""

import unittest

from heartline.schema import client_frame_errors, server_frame_errors, validate

WELCOME = {
    "type": "welcome",
    "protocol": 1,
    "sessionId": "s_1",
    "heartbeat": {"intervalMs": 15000, "timeoutMs": 30000},
}


class ServerFrames(unittest.TestCase):
    def test_valid_frames_pass(self) -> None:
        for frame in [
            WELCOME,
            {**WELCOME, "resume": {"token": "t.4Jq0", "windowMs": 120000}, "resumed": {"ack": 2}},
            {**WELCOME, "resume": {"token": "t", "windowMs": 1}, "resumeFailed": "expired"},
            {"type": "pong", "seq": 0},
            {"type": "message", "data": None},
            {"type": "message", "seq": 1, "data": {"text": "hello"}},
            {"type": "ack", "seq": 0},
            {"type": "error", "code": "invalid_payload", "message": "no"},
            {"type": "goodbye", "reconnect": {"minMs": 0, "maxMs": 10000}},
        ]:
            with self.subTest(frame=frame):
                self.assertEqual(server_frame_errors(frame), [])

    def test_unknown_fields_are_ignored(self) -> None:
        self.assertEqual(server_frame_errors({**WELCOME, "rate": {"perSecond": 5, "burst": 10}}), [])
        self.assertEqual(server_frame_errors({"type": "pong", "seq": 1, "later": True}), [])

    def test_unknown_types_are_not_judged(self) -> None:
        self.assertIsNone(server_frame_errors({"type": "novelty"}))

    def test_invalid_frames_fail(self) -> None:
        for frame in [
            {**WELCOME, "protocol": 2},
            {**WELCOME, "heartbeat": {"intervalMs": 0, "timeoutMs": 30000}},
            {**WELCOME, "heartbeat": {"intervalMs": 15000}},
            {**WELCOME, "resumed": {"ack": 1}},
            {**WELCOME, "resume": {"token": "bad token", "windowMs": 1}},
            {**WELCOME, "resume": {"token": "t", "windowMs": 1}, "resumed": {"ack": 1}, "resumeFailed": "unknown"},
            {"type": "pong", "seq": -1},
            {"type": "pong", "seq": 1.5},
            {"type": "pong", "seq": 2**53},
            {"type": "pong", "seq": True},
            {"type": "message"},
            {"type": "message", "seq": 0, "data": 1},
            {"type": "error", "code": "x"},
            {"type": "goodbye", "reconnect": {"minMs": -1, "maxMs": 1}},
            [],
            {"seq": 3},
        ]:
            with self.subTest(frame=frame):
                self.assertTrue(server_frame_errors(frame))


class ClientFrames(unittest.TestCase):
    def test_what_this_client_sends(self) -> None:
        self.assertEqual(client_frame_errors({"type": "ping", "seq": 0}), [])
        self.assertEqual(client_frame_errors({"type": "message", "seq": 3, "data": [1]}), [])
        self.assertTrue(client_frame_errors({"type": "ping", "seq": -1}))
        self.assertTrue(client_frame_errors({"type": "welcome"}))


class Validator(unittest.TestCase):
    def test_integer_accepts_whole_floats(self) -> None:
        self.assertEqual(validate({"type": "integer"}, 2.0), [])
        self.assertTrue(validate({"type": "integer"}, 2.5))
        self.assertTrue(validate({"type": "number"}, float("nan")))


if __name__ == "__main__":
    unittest.main()
