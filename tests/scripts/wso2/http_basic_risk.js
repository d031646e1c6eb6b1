// Risk-based step-up: a risk service protected with HTTP Basic decides whether the
// user passes a second factor.  On a service error the login is refused.
var riskServiceUrl = 'https://risk.example.com/api/protected';

var onLoginRequest = function (context) {
    executeStep(1, {
        onSuccess: function (context) {
            var user = context.currentKnownSubject;
            var authConfig = {
                type: 'basic',
                properties: {
                    username: 'risk-client',
                    password: 'risk-client-password'
                }
            };
            httpPost(riskServiceUrl, {user: user.username, ip: context.request.ip},
                     {'Content-Type': 'application/json'}, authConfig, {
                onSuccess: function (context, data) {
                    Log.info('Risk service answered for ' + user.username);
                    if (data.authorized && data.json && data.json.ip === '203.0.113.7') {
                        executeStep(2);
                    }
                },
                onFail: function (context, data) {
                    Log.info('Risk service unavailable: ' + JSON.stringify(data));
                    fail({errorCode: 'access_denied', errorMessage: 'risk service: ' + (data.error || 'failed')});
                }
            });
        }
    });
};
