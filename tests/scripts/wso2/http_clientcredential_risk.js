// Risk-based step-up against an API protected with OAuth 2.0: the server gets a token
// with the client credentials grant (consumerKey/consumerSecret at tokenEndpoint).
// The client secret is kept in the secret store, not in the script.
var riskServiceUrl = 'https://risk.example.com/api/protected';

var onLoginRequest = function (context) {
    executeStep(1, {
        onSuccess: function (context) {
            var user = context.currentKnownSubject;
            var authConfig = {
                type: 'clientcredential',
                properties: {
                    consumerKey: 'risk-app',
                    consumerSecret: getSecretByName('riskAppSecret'),
                    tokenEndpoint: 'https://risk.example.com/oauth2/token',
                    scope: 'risk:read'
                }
            };
            httpGet(riskServiceUrl + '?user=' + encodeURIComponent(user.username), {}, authConfig, {
                onSuccess: function (context, data) {
                    if (data.scope !== 'risk:read') {
                        fail({errorCode: 'access_denied', errorMessage: 'unexpected scope'});
                    } else if (hasRole(user, 'admin')) {
                        executeStep(2);
                    }
                },
                onFail: function (context, data) {
                    fail({errorCode: 'access_denied', errorMessage: 'risk service: ' + (data.error || 'failed')});
                }
            });
        }
    });
};
