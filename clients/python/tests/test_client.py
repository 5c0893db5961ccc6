"""What `send` refuses, without a network."""

import unittest

from heartline import HeartlineClient


class Send(unittest.IsolatedAsyncioTestCase):
    async def test_refuses_when_closed_and_says_why(self) -> None:
        client = HeartlineClient("ws://127.0.0.1:9/ws")
        errors: list[dict[str, object]] = []
        client.on("error", errors.append)
        self.assertFalse(client.send({"a": 1}))
        self.assertEqual(errors[0]["code"], "closed")
        self.assertEqual(errors[0]["data"], {"a": 1})

    async def test_refuses_what_is_not_json(self) -> None:
        client = HeartlineClient("ws://127.0.0.1:9/ws")
        errors: list[dict[str, object]] = []
        client.on("error", errors.append)
        self.assertFalse(client.send(float("nan")))
        self.assertEqual(errors[0]["code"], "invalid_data")

    async def test_refuses_past_the_outbox_and_reports_the_rest_on_close(self) -> None:
        client = HeartlineClient("ws://127.0.0.1:9/ws", max_messages=2, reconnect=False)
        errors: list[dict[str, object]] = []
        undelivered: list[dict[str, object]] = []
        client.on("error", errors.append)
        client.on("undelivered", undelivered.append)
        client.connect()
        self.assertTrue(client.send(1))
        self.assertTrue(client.send(2))
        self.assertFalse(client.send(3))
        self.assertEqual(errors[-1]["code"], "outbox_overflow")
        await client.close()
        self.assertEqual(undelivered, [{"reason": "closed", "messages": [1, 2]}])
        self.assertEqual(client.state, "closed")


if __name__ == "__main__":
    unittest.main()
