// A risk decision from a service deployed on Choreo: callChoreo posts the payload
// with a token for the connection's consumer key and secret (kept in the secret store).
var onLoginRequest = function (context) {
    executeStep(1, {
        onSuccess: function (context) {
            var user = context.currentKnownSubject;
            var country = user.localClaims['http://wso2.org/claims/country'];
            var connectionMetadata = {
                url: 'https://risk.example.com/api/protected',
                consumerKey: 'choreo-app',
                consumerSecretAlias: 'choreoAppSecret'
            };
            callChoreo(connectionMetadata, {user: user.username, country: country}, {
                onSuccess: function (context, data) {
                    if (data.json && data.json.country !== 'LK') {
                        executeStep(2);
                    }
                },
                onFail: function (context, data) {
                    fail({errorCode: 'access_denied', errorMessage: 'choreo: ' + (data.error || 'failed')});
                },
                onTimeout: function (context, data) {
                    fail({errorCode: 'access_denied', errorMessage: 'choreo: timed out'});
                }
            });
        }
    });
};
