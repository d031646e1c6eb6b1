// Risk-based step-up with an outside risk service.
// The service is called with the script's API key, kept in the server's secrets (never in the
// script).  A high score, or no answer from the service, means the second factor too.
var riskServiceUrl = 'https://risk.example.com/api/score';
var stepUpScore = 50;

var onLoginRequest = function (context) {
    executeStep(1, {
        onSuccess: function (context) {
            var user = context.currentKnownSubject;
            Log.debug('Asking the risk service with key ' + secrets.riskApiKey);
            httpPost(riskServiceUrl, {user: user.uniqueId, ip: context.request.ip},
                {'X-API-Key': secrets.riskApiKey, 'Accept': 'application/json'}, {
                onSuccess: function (context, data) {
                    if (data.score > stepUpScore) {
                        Log.info('Risk score ' + data.score + ': second factor.');
                        executeStep(2);
                    }
                },
                onFail: function (context, data) {
                    Log.info('The risk service did not answer: second factor.');
                    executeStep(2);
                }
            });
        }
    });
};
