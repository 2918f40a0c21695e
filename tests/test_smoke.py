def test_pageview_posted_is_stored(client, db, flush):
    response = client.post("/api/v1/pageviews", json={"path": "/", "log_id": "a1"})
    assert response.status_code == 202, response.text
    assert response.json() == {"status": "accepted", "log_id": "a1"}
    flush()
    doc = db.pageviews.find_one({"log_id": "a1"})
    assert doc["path"] == "/"
