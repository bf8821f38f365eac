namespace XdpLb.FakeKubeApi;
